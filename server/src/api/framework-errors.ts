import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { allowedMethods, type ApiError } from '@cellgraph/schema';
import { BadRequestError, MethodNotAllowedError, NotFoundError } from '../errors';
import { HttpError, sendError } from './http-errors';

/**
 * Fastify's own errors (the router's, the body parsers', Node's HTTP parser's) in the API's
 * one error shape, after authentication like every other answer: a caller without the
 * token learns nothing about the request beyond "401".
 */

/** JSON nested deeper than this is refused before it is parsed (a deep document overflows recursive code later). */
export const MAX_JSON_DEPTH = 64;

/** The longest path parameter the router accepts; longer ones are a 414 (no schema allows anything near it). */
export const MAX_PARAM_LENGTH = 1024;

/** Sends a 401 unless the request carries a valid token; true when it did. */
export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<boolean>;

/** Fastify's `frameworkErrors` option: a bad percent-encoding or an over-long path parameter, after the token check. */
export function frameworkErrors(authenticate: Authenticate): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => void frameworkError(authenticate, error, request, reply);
}

async function frameworkError(authenticate: Authenticate, error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!(await authenticate(request, reply))) return;
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    await sendError(reply, new HttpError(414, 'bad-request', `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`, 'path'));
  } else if (error.code === 'FST_ERR_BAD_URL') {
    await sendError(reply, new BadRequestError('the URL is not valid percent-encoding (UTF-8)', 'path'));
  } else await sendError(reply, error);
}

/**
 * Unknown paths (404) and methods a path does not have (405 with `Allow`). Runs after the
 * token check like any route.
 */
export function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const pathname = request.url.split('?')[0];
  const allowed = allowedMethods(pathname);
  if (allowed.length > 0) {
    reply.header('allow', allowed.join(', '));
    return sendError(reply, new MethodNotAllowedError(`${request.method} is not allowed on ${pathname}; allowed: ${allowed.join(', ')}`));
  }
  return sendError(reply, new NotFoundError(`no route ${request.method} ${pathname}`));
}

/**
 * How deep `text` nests arrays and objects, counted without parsing (strings skipped), and
 * stopping as soon as it passes `limit`.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** `__proto__` or `constructor.prototype` when valid JSON has such a key (undefined for JSON that does not parse at all). */
function poisonedKey(text: string): string | undefined {
  let found: string | undefined;
  try {
    // A reviver sees every key once, children before parents.
    JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__') found ??= '__proto__';
      if (key === 'constructor' && typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'prototype')) found ??= 'constructor.prototype';
      return value;
    });
  } catch {
    return undefined;
  }
  return found;
}

/** Replaces Fastify's JSON body parser with one that refuses documents nested deeper than {@link MAX_JSON_DEPTH} first. */
export function installJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(new BadRequestError(`malformed JSON: nested deeper than ${MAX_JSON_DEPTH} levels`, 'body'), undefined);
      return;
    }
    parse(request, text, (err, value) => {
      // Valid JSON the prototype-poisoning guard refused: a 422 that names the key (what the
      // document declares for every body), not a 400 saying the JSON is malformed.
      if (err !== null && poisonedKey(text) !== undefined) {
        done(new HttpError(422, 'invalid', `the JSON body has a key named ${poisonedKey(text)}, which the server refuses (prototype pollution); rename it`, 'body'), undefined);
        return;
      }
      done(err, value);
    });
  });
}

/**
 * Node's HTTP parser refusing a request (an unknown method, broken framing): answered in
 * the one error shape on the raw socket, since no request object exists to authenticate.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request took too long to arrive']
        : [400, 'Bad Request', err.code === 'HPE_INVALID_METHOD' ? 'unknown HTTP method' : 'malformed HTTP request'];
  const body: ApiError = { error: { code: 'bad-request', message } };
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${json}`);
  }
  socket.destroy(err);
}
