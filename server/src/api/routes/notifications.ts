import { apiRoutes } from '@cellgraph/schema';
import type { ApiContext } from '../context';
import { jsonRoute, type ApiRoute } from '../route';

/** What a run's webhooks were sent, attempt counts and outcomes included. */
export function notificationRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    jsonRoute(apiRoutes.runNotifications, async ({ params }) => {
      await ctx.state.getRun(params.id); // 404 for an unknown run, not an empty list
      return { runId: params.id, deliveries: await ctx.state.listDeliveries(params.id) };
    })
  ];
}
