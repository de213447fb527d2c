import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AnyRoute, RouteDef } from '@cellgraph/schema';
import type { z } from 'zod';
import { HttpError, invalidInput } from './http-errors';

/** What a handler receives: the request's parts, already parsed by the route's schemas. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** The parsed input of a declared route. */
type InputOf<D> = D extends RouteDef<infer P, infer Q, infer B, z.ZodTypeAny> ? RouteInput<z.output<P>, z.output<Q>, z.output<B>> : never;

/**
 * What runs around every handler (server/src/auth/guard.ts): authorization once the request
 * parsed, and the audit trail once the handler succeeded (before the answer is sent).
 */
export interface RouteGuard {
  authorize(def: AnyRoute, input: { params: unknown; query: unknown; body: unknown; request: FastifyRequest }): Promise<void>;
  after(def: AnyRoute, input: { params: unknown; query: unknown; body: unknown; request: FastifyRequest }, result: unknown): Promise<void>;
}

/** A declared route bound to its handler, as routers hand them to the app. */
export interface ApiRoute {
  def: AnyRoute;
  run(request: FastifyRequest, reply: FastifyReply, guard?: RouteGuard): Promise<void>;
}

function parsePart(schema: z.ZodTypeAny | undefined, value: unknown, where: 'body' | 'query' | 'params'): unknown {
  if (schema === undefined) {
    // A route without a body schema accepts no body fields at all (an empty body of any type
    // is no body: browsers' fetch wrappers often send one with a content type).
    if (where === 'body' && value !== undefined && value !== null && value !== '' && !(typeof value === 'object' && Object.keys(value).length === 0)) {
      throw new HttpError(400, 'invalid', 'this route takes no request body', 'body');
    }
    return undefined;
  }
  // No body at all is an empty one; `null` is a body, and not an object.
  const parsed = schema.safeParse(where === 'body' && value === undefined ? {} : value);
  if (!parsed.success) throw invalidInput(where, parsed.error);
  return parsed.data;
}

function parseInput<D extends AnyRoute>(def: D, request: FastifyRequest, reply: FastifyReply): InputOf<D> {
  if (def.headers !== undefined) {
    const headers = def.headers.safeParse(request.headers);
    if (!headers.success) throw invalidInput('header', headers.error);
  }
  return {
    params: parsePart(def.params, request.params, 'params'),
    query: parsePart(def.query, request.query, 'query'),
    body: parsePart(def.body, request.body, 'body'),
    request,
    reply
  } as InputOf<D>;
}

/**
 * Runs a handler on input that matched the route's schemas. A ValidationError from
 * further in (a notebook path that names no file, a parameter value of the wrong kind, a
 * cron expression that never fires) is about a request the OpenAPI document calls valid,
 * so it is a 422, not a 400: 400 always means "does not match the document".
 */
async function handle<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof Error && err.name === 'ValidationError') {
      const field = (err as Error & { field?: unknown }).field;
      throw new HttpError(422, 'invalid', err.message, typeof field === 'string' ? field : undefined);
    }
    throw err;
  }
}

/**
 * Binds a JSON route of the table to its handler: request parts parsed with the route's
 * schemas, the answer checked against its response schema before it is sent.
 */
export function jsonRoute<D extends AnyRoute>(def: D, handler: (input: InputOf<D>) => Promise<z.input<D['response']>>): ApiRoute {
  return {
    def,
    async run(request, reply, guard) {
      const input = parseInput(def, request, reply);
      await guard?.authorize(def, input);
      const result = await handle(() => handler(input));
      // A response that does not match its schema is a server bug: a 500, never a malformed answer.
      const checked: unknown = def.response.parse(result);
      await guard?.after(def, input, checked);
      await reply.status(def.status).type(def.contentType).send(checked);
    }
  };
}

/** Binds a route that writes its own response (Server-Sent Events, downloads) to its handler. */
export function streamRoute<D extends AnyRoute>(def: D, handler: (input: InputOf<D>) => Promise<void>): ApiRoute {
  return {
    def,
    async run(request, reply, guard) {
      const input = parseInput(def, request, reply);
      await guard?.authorize(def, input);
      await handle(() => handler(input));
    }
  };
}

/** Mounts routes on a Fastify instance. */
export function mountRoutes(app: FastifyInstance, routes: readonly ApiRoute[], guard?: RouteGuard): void {
  for (const { def, run } of routes) {
    app.route({
      method: def.method,
      url: def.path,
      config: { auth: def.auth },
      handler: async (request, reply) => {
        await run(request, reply, guard);
        return reply;
      }
    });
  }
}
