import { DEFAULT_PROJECT, apiRoutes } from '@cellgraph/schema';
import { canSee, claimWorkflow, principalOf } from '../../auth';
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
      const project = body.project ?? DEFAULT_PROJECT;
      return workflows.promote(body, (workflow) => claimWorkflow(ctx.auth.identity, ctx.state, workflow, project));
    }),
    jsonRoute(apiRoutes.listWorkflows, async ({ request }) => {
      const p = principalOf(request);
      const all = await workflows.list();
      const projects = await ctx.auth.identity.projectsOf('workflow', all.map((w) => w.workflow));
      return { workflows: all.map((w) => ({ ...w, project: projects.get(w.workflow) ?? DEFAULT_PROJECT })).filter((w) => canSee(p, w.project)) };
    }),
    jsonRoute(apiRoutes.listVersions, async ({ params }) => ({ workflow: params.name, versions: await workflows.versions(params.name) })),
    jsonRoute(apiRoutes.diffVersions, async ({ params }) => workflows.diff(params.name, params.a, params.b)),
    jsonRoute(apiRoutes.runVersion, async ({ params, body }) => {
      assertNoParamConflict(body.params, body.paramAssignments);
      const { webhookUrl, ...options } = body;
      if (webhookUrl !== undefined) await ctx.notifier.guard.check(webhookUrl, 'body.webhookUrl');
      return workflows.runVersion(await workflows.resolve(params.name, params.v), { ...options, webhooks: runWebhooks(webhookUrl) });
    })
  ];
}
