import Fastify, { type FastifyInstance } from 'fastify';
import { ApiError } from '@cellgraph/schema';
import { z } from 'zod';
import { tokenChecker } from './auth';
import type { ApiContext } from './context';
import { UnauthorizedError } from '../errors';
import { sendError } from './http-errors';
import { buildOpenApi } from './openapi';
import { jsonRoute, mountRoutes, type ApiRoute } from './route';
import { healthRoutes } from './routes/health';
import { notificationRoutes } from './routes/notifications';
import { runRoutes } from './routes/runs';
import { scheduleRoutes } from './routes/schedules';
import { workflowRoutes } from './routes/workflows';
import { compileRoutes } from './routes/compile';

/** The path of the generated OpenAPI document (stable: clients and docs link to it). */
export const OPENAPI_PATH = '/api/v1/openapi.json';

/**
 * Every route of the API. A new resource adds its router here, built from the same
 * ApiContext; the OpenAPI document lists whatever is here.
 */
export function apiRoutes(ctx: ApiContext): ApiRoute[] {
  const routes = [...healthRoutes(ctx), ...runRoutes(ctx), ...notificationRoutes(ctx), ...workflowRoutes(ctx), ...scheduleRoutes(ctx), ...compileRoutes(ctx)];
  let openapi: unknown;
  const docRoute: ApiRoute = jsonRoute({
    method: 'GET',
    url: OPENAPI_PATH,
    summary: 'this document',
    tag: 'server',
    response: z.record(z.unknown()),
    handler: async () => (openapi ??= buildOpenApi([...routes, docRoute], ctx.version))
  });
  return [...routes, docRoute];
}

/**
 * The HTTP application: bearer-token auth on every route but health, zod-checked routes,
 * one error shape for everything (including Fastify's own: malformed JSON, body too
 * large, unsupported media type), and 404s in that shape too.
 */
export function buildApp(ctx: ApiContext, token: string): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: ctx.config.maxBodyBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle'
  });
  const authorized = tokenChecker(token);
  app.addHook('onRequest', async (request, reply) => {
    const open = (request.routeOptions.config as { auth?: boolean } | undefined)?.auth === false;
    if (open) return;
    if (!authorized(request.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer realm="cellgraph"');
      throw new UnauthorizedError('missing or wrong bearer token (Authorization: Bearer <CELLGRAPH_TOKEN>)');
    }
  });
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((request, reply) => {
    const body: ApiError = { error: { code: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}` } };
    return reply.status(404).type('application/json').send(body);
  });
  app.addHook('preClose', async () => ctx.streams.endAll());
  mountRoutes(app, apiRoutes(ctx));
  return app;
}
