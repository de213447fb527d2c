import { HealthResponse } from '@cellgraph/schema';
import type { ApiContext } from '../context';
import { jsonRoute, type ApiRoute } from '../route';

/** GET /api/v1/health: open without a token, for load balancers and `cellgraph` clients probing a URL. */
export function healthRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    jsonRoute({
      method: 'GET',
      url: '/api/v1/health',
      summary: 'liveness; "draining" once shutdown began',
      tag: 'server',
      auth: false,
      response: HealthResponse,
      handler: async () => ({ status: ctx.runs.isDraining ? 'draining' : 'ok', version: ctx.version, executor: ctx.config.executor })
    })
  ];
}
