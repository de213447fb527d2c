import { RunNotificationsResponse, RunPathParams } from '@cellgraph/schema';
import type { ApiContext } from '../context';
import { jsonRoute, type ApiRoute } from '../route';

/** What a run's webhooks were sent, attempt counts and outcomes included. */
export function notificationRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    jsonRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/notifications',
      summary: "the run's webhook deliveries: pending, delivered or failed, with attempts and the last status or error",
      tag: 'runs',
      params: RunPathParams,
      response: RunNotificationsResponse,
      handler: async ({ params }) => {
        await ctx.state.getRun(params.id); // 404 for an unknown run, not an empty list
        return { runId: params.id, deliveries: await ctx.state.listDeliveries(params.id) };
      }
    })
  ];
}
