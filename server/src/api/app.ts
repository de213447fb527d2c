import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { apiRoutes } from '@cellgraph/schema';
import { authenticateRequest, challenge } from '../auth';
import type { ApiContext } from './context';
import { UnauthorizedError } from '../errors';
import { MAX_PARAM_LENGTH, clientErrorHandler, frameworkErrors, installJsonParser, notFound } from './framework-errors';
import { sendError } from './http-errors';
import { buildOpenApi } from './openapi';
import { jsonRoute, mountRoutes, type ApiRoute } from './route';
import { healthRoutes } from './routes/health';
import { notificationRoutes } from './routes/notifications';
import { runRoutes } from './routes/runs';
import { scheduleRoutes } from './routes/schedules';
import { workflowRoutes } from './routes/workflows';
import { compileRoutes } from './routes/compile';
import { identityRoutes } from './routes/identity';

/** The path of the generated OpenAPI document (stable: clients and docs link to it). */
export const OPENAPI_PATH = apiRoutes.openapi.path;

/**
 * Every route of the API, each bound to a declaration of the route table in
 * @cellgraph/schema. A new resource declares its routes there and adds its router here.
 */
export function apiRoutesFor(ctx: ApiContext): ApiRoute[] {
  let openapi: Record<string, unknown> | undefined;
  return [
    ...healthRoutes(ctx),
    ...runRoutes(ctx),
    ...notificationRoutes(ctx),
    ...workflowRoutes(ctx),
    ...scheduleRoutes(ctx),
    ...compileRoutes(ctx),
    ...identityRoutes(ctx),
    jsonRoute(apiRoutes.openapi, async () => (openapi ??= buildOpenApi(ctx.version)))
  ];
}

/**
 * The HTTP application: authentication first (docs/identity.md), authorization per route from the route table on every route but health and the OpenAPI
 * document, zod-checked routes, and one error shape for everything, Fastify's and Node's
 * own errors included (bad URL encoding, over-long parameters, malformed or too deeply
 * nested JSON, body too large, unsupported media type, unknown paths and methods).
 */
export function buildApp(ctx: ApiContext): FastifyInstance {
  // The token chain (server token, personal API tokens, JupyterHub) and the caller's roles: docs/identity.md.
  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    try {
      await authenticateRequest(ctx.auth, request);
      return true;
    } catch (err) {
      if (err instanceof UnauthorizedError) challenge(reply);
      await sendError(reply, err);
      return false;
    }
  };
  const app = Fastify({
    logger: false,
    bodyLimit: ctx.config.maxBodyBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // HEAD is not part of the API: it answers 405 like any other method a path does not have.
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrors(authenticate),
    clientErrorHandler
  });
  app.addHook('onRequest', async (request, reply) => {
    const open = (request.routeOptions.config as { auth?: boolean } | undefined)?.auth === false;
    if (open || (await authenticate(request, reply))) return;
    return reply;
  });
  installJsonParser(app);
  // An error on no route at all (a QUERY without a content type, a body on an unknown path)
  // is still a 404 or 405: what is wrong is the path or the method, not the body.
  app.setErrorHandler((error, request, reply) => (request.is404 ? notFound(request, reply) : sendError(reply, error)));
  app.setNotFoundHandler(notFound);
  app.addHook('preClose', async () => ctx.streams.endAll());
  mountRoutes(app, apiRoutesFor(ctx), ctx.auth.guard);
  return app;
}
