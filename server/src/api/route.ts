import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError, invalidInput } from './http-errors';

/** What a handler receives: the request's parts, already parsed by the route's schemas. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

type Schema<T> = z.ZodType<T, z.ZodTypeDef, unknown>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface RouteCommon<P, Q, B> {
  method: Method;
  /** Fastify URL pattern, e.g. `/api/v1/runs/:id`. */
  url: string;
  summary: string;
  tag: string;
  /** False only for health: every other route needs the bearer token. */
  auth?: boolean;
  params?: Schema<P>;
  query?: Schema<Q>;
  body?: Schema<B>;
}

/** A route answering with one JSON document, checked against `response` before it is sent. */
export interface JsonRouteSpec<P, Q, B, R> extends RouteCommon<P, Q, B> {
  response: Schema<R>;
  status?: 200 | 201 | 202;
  handler(input: RouteInput<P, Q, B>): Promise<R>;
}

/** A route that writes its own response (Server-Sent Events, downloads). */
export interface StreamRouteSpec<P, Q, B> extends RouteCommon<P, Q, B> {
  /** Content type of the success response, for the OpenAPI document. */
  produces: string;
  handler(input: RouteInput<P, Q, B>): Promise<void>;
}

/**
 * A route with its types erased, as routers hand them to the app and the OpenAPI
 * generator. The schemas stay available for documentation.
 */
export interface ApiRoute {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  auth: boolean;
  params?: z.ZodTypeAny;
  query?: z.ZodTypeAny;
  body?: z.ZodTypeAny;
  response?: z.ZodTypeAny;
  produces: string;
  status: number;
  run(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

function parsePart<T>(schema: Schema<T> | undefined, value: unknown, where: 'body' | 'query' | 'params'): T {
  if (schema === undefined) {
    // A route without a body schema accepts no body fields at all (an empty body of any type
    // is no body: browsers' fetch wrappers often send one with a content type).
    if (where === 'body' && value !== undefined && value !== null && value !== '' && !(typeof value === 'object' && Object.keys(value).length === 0)) {
      throw new HttpError(400, 'invalid', 'this route takes no request body', 'body');
    }
    return undefined as T;
  }
  const parsed = schema.safeParse(where === 'body' ? (value ?? {}) : value);
  if (!parsed.success) throw invalidInput(where, parsed.error);
  return parsed.data;
}

function parseInput<P, Q, B>(spec: RouteCommon<P, Q, B>, request: FastifyRequest, reply: FastifyReply): RouteInput<P, Q, B> {
  return {
    params: parsePart(spec.params, request.params, 'params'),
    query: parsePart(spec.query, request.query, 'query'),
    body: parsePart(spec.body, request.body, 'body'),
    request,
    reply
  };
}

/** Declares a JSON route: request parts and the response parsed with zod, nothing cast. */
export function jsonRoute<P = undefined, Q = undefined, B = undefined, R = unknown>(spec: JsonRouteSpec<P, Q, B, R>): ApiRoute {
  return {
    ...meta(spec),
    response: spec.response,
    produces: 'application/json',
    status: spec.status ?? 200,
    async run(request, reply) {
      const result = await spec.handler(parseInput(spec, request, reply));
      // A response that does not match its schema is a server bug: a 500, never a malformed answer.
      const checked = spec.response.parse(result);
      await reply.status(spec.status ?? 200).type('application/json').send(checked);
    }
  };
}

/** Declares a route that writes its own response body. */
export function streamRoute<P = undefined, Q = undefined, B = undefined>(spec: StreamRouteSpec<P, Q, B>): ApiRoute {
  return {
    ...meta(spec),
    produces: spec.produces,
    status: 200,
    async run(request, reply) {
      await spec.handler(parseInput(spec, request, reply));
    }
  };
}

function meta<P, Q, B>(spec: RouteCommon<P, Q, B>): Pick<ApiRoute, 'method' | 'url' | 'summary' | 'tag' | 'auth' | 'params' | 'query' | 'body'> {
  return {
    method: spec.method,
    url: spec.url,
    summary: spec.summary,
    tag: spec.tag,
    auth: spec.auth ?? true,
    params: spec.params,
    query: spec.query,
    body: spec.body
  };
}

/** Mounts routes on a Fastify instance. */
export function mountRoutes(app: FastifyInstance, routes: readonly ApiRoute[]): void {
  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.url,
      config: { auth: r.auth },
      handler: async (request, reply) => {
        await r.run(request, reply);
        return reply;
      }
    });
  }
}
