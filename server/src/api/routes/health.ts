import { apiRoutes } from '@cellgraph/schema';
import type { ApiContext } from '../context';
import { jsonRoute, type ApiRoute } from '../route';

/** GET /api/v1/health: open without a token, for load balancers and `cellgraph` clients probing a URL. */
export function healthRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    jsonRoute(apiRoutes.health, async () => ({ status: ctx.runs.isDraining ? ('draining' as const) : ('ok' as const), version: ctx.version, executor: ctx.config.executor }))
  ];
}
