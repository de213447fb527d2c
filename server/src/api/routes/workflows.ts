import { apiRoutes } from '@cellgraph/schema';
import type { ApiContext } from '../context';
import { UnavailableError } from '../../errors';
import { jsonRoute, type ApiRoute } from '../route';
import { assertNoParamConflict, runWebhooks } from '../run-service';

/** Promotion and versions of workflows. */
export function workflowRoutes(ctx: ApiContext): ApiRoute[] {
  const { workflows } = ctx;
  return [
    jsonRoute(apiRoutes.promote, async ({ body }) => {
      if (body.run && ctx.runs.isDraining) throw new UnavailableError('the server is shutting down; no new runs');
      return workflows.promote(body);
    }),
    jsonRoute(apiRoutes.listWorkflows, async () => ({ workflows: await workflows.list() })),
    jsonRoute(apiRoutes.listVersions, async ({ params }) => ({ workflow: params.name, versions: await workflows.versions(params.name) })),
    jsonRoute(apiRoutes.diffVersions, async ({ params }) => workflows.diff(params.name, params.a, params.b)),
    jsonRoute(apiRoutes.workflowTypes, async ({ params, query }) => ctx.runs.outputTypes(params.name, query.version)),
    jsonRoute(apiRoutes.runVersion, async ({ params, body }) => {
      assertNoParamConflict(body.params, body.paramAssignments);
      const { webhookUrl, ...options } = body;
      if (webhookUrl !== undefined) await ctx.notifier.guard.check(webhookUrl, 'body.webhookUrl');
      return workflows.runVersion(await workflows.resolve(params.name, params.v), { ...options, webhooks: runWebhooks(webhookUrl) });
    })
  ];
}
