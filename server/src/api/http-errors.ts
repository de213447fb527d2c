import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { ApiError, ApiErrorCode, Diagnostic } from '@cellgraph/schema';
import { firstZodIssue } from '../zod-issue';

/**
 * An error that already knows its HTTP answer. Domain errors (ValidationError,
 * NotFoundError, StateError) are mapped by `toApiError`; this class covers what only the
 * HTTP edge knows about (auth, conflicts with a resource's state, compile failures).
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
    readonly diagnostics?: Diagnostic[]
  ) {
    super(message);
  }
}

/** The request does not fit the resource's current state (e.g. retrying a running run). */
export function conflict(message: string): HttpError {
  return new HttpError(409, 'conflict', message);
}

/** A notebook that does not compile: 422 with every diagnostic, cell by cell. */
export function compileFailed(notebook: string, diagnostics: Diagnostic[]): HttpError {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return new HttpError(422, 'compile-error', `${notebook}: ${errors} error${errors === 1 ? '' : 's'}; nothing was run`, 'notebook', diagnostics);
}

/** Turns a zod failure on one part of a request into a 400 naming the field at fault. */
export function invalidInput(location: 'body' | 'query' | 'params' | 'header', error: ZodError): HttpError {
  const { path, message } = firstZodIssue(error);
  const field = [location === 'params' ? 'path' : location, ...path].join('.');
  return new HttpError(400, 'invalid', `${field}: ${message}`, field);
}

interface Mapped {
  status: number;
  body: ApiError;
  /** Only for 5xx: a reference the operator finds in the server's log next to the stack. */
  reference?: string;
}

/**
 * Maps any thrown value to a status and an ApiError body. Known errors keep their
 * message; anything else becomes a 500 whose body holds only a reference id, so stacks,
 * paths and secrets stay in the server's log.
 */
export function toApiError(e: unknown): Mapped {
  const body = (code: ApiErrorCode, message: string, field?: string, diagnostics?: Diagnostic[]): ApiError => ({
    error: { code, message, ...(field !== undefined ? { field } : {}), ...(diagnostics !== undefined ? { diagnostics } : {}) }
  });
  if (e instanceof HttpError) return { status: e.status, body: body(e.code, e.message, e.field, e.diagnostics) };
  const err = e instanceof Error ? e : new Error(String(e));
  switch (err.name) {
    case 'ValidationError':
      return { status: 400, body: body('invalid', err.message, (err as Error & { field?: string }).field) };
    case 'NotFoundError':
      return { status: 404, body: body('not-found', err.message) };
    case 'ConflictError': {
      // The scheduler's ScheduleConflictError (a taken id) and any other clash with stored state.
      const field = (err as Error & { field?: unknown }).field;
      return { status: 409, body: body('conflict', err.message, typeof field === 'string' ? field : undefined) };
    }
    case 'CompileLimitError':
      // The message names the limit and its setting; the notebook itself may be fine.
      return { status: 422, body: body('compile-limit', err.message, 'notebook') };
    case 'CompileUnavailableError':
      return { status: 503, body: body('unavailable', err.message) };
    case 'StateError':
      // StateError messages are written for users (locked database, full disk) and hold no secrets.
      return { status: 503, body: body('unavailable', err.message) };
  }
  const errno = (err as NodeJS.ErrnoException).code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    // The store's writes are atomic (temp file + rename), so a full disk leaves nothing half-written.
    return { status: 503, body: body('unavailable', "the disk holding the server's home is full; nothing was stored, try again once space is freed") };
  }
  const fastifyError = err as FastifyError;
  if (typeof fastifyError.code === 'string' && fastifyError.code.startsWith('FST_')) {
    const status = fastifyError.statusCode ?? 500;
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: body('payload-too-large', 'request body is too large') };
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return { status: 415, body: body('bad-request', 'unsupported content type; send application/json', 'header.content-type') };
    }
    if (status >= 400 && status < 500) return { status, body: body('bad-request', requestProblem(fastifyError)) };
  }
  if (err instanceof SyntaxError && (err as FastifyError).statusCode === 400) {
    return { status: 400, body: body('bad-request', `malformed JSON: ${err.message}`, 'body') };
  }
  const reference = randomBytes(6).toString('hex');
  return { status: 500, body: body('internal', `internal error (reference ${reference}; see the server log)`), reference };
}

function requestProblem(e: FastifyError): string {
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || /JSON/i.test(e.message)) {
    return `malformed JSON: ${e.message.replace(/^Body is not valid JSON but content-type is set to 'application\/json'$/, 'the body is not valid JSON')}`;
  }
  return e.message;
}

/** Sends an error response, logging 5xx details (with their reference) to the server's stderr. */
export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  const mapped = toApiError(e);
  if (mapped.reference !== undefined) {
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`cellgraph server: internal error ${mapped.reference}: ${err.stack ?? err.message}\n`);
  }
  return reply.status(mapped.status).type('application/json').send(mapped.body);
}
