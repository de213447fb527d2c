import { apiRoutes } from '@cellgraph/schema';
import { canSee, principalOf } from '../../auth';
import { DEFAULT_PROJECT } from '@cellgraph/schema';
import { ConflictError } from '../../errors';
import type { ApiContext } from '../context';
import { UnavailableError } from '../../errors';
import { jsonRoute, type ApiRoute } from '../route';
import { assertNoParamConflict, runWebhooks } from '../run-service';

/** Promotion and versions of workflows. */
export function workflowRoutes(ctx: ApiContext): ApiRoute[] {
  const { workflows } = ctx;
  const promoted = async (workflow: string) => (await ctx.state.listPromotedWorkflows()).some((w) => w.workflow === workflow);
  return [
    jsonRoute(apiRoutes.promote, async ({ body }) => {
      if (body.run && ctx.runs.isDraining) throw new UnavailableError('the server is shutting down; no new runs');
      const project = body.project ?? DEFAULT_PROJECT;
      // A workflow stays in the project it was first promoted in: no other project's editor may add versions to it.
      return workflows.promote(body, async (workflow) => {
        const owner = await ctx.auth.identity.projectOf('workflow', workflow);
        if (owner === undefined && project !== DEFAULT_PROJECT && !(await promoted(workflow))) await ctx.auth.identity.setProjectOf('workflow', workflow, project);
        const now = (await ctx.auth.identity.projectOf('workflow', workflow)) ?? DEFAULT_PROJECT;
        if (now !== project) throw new ConflictError(`workflow ${workflow} belongs to another project; promote it under another name`, 'body.project');
      });
    }),
    jsonRoute(apiRoutes.listWorkflows, async ({ request }) => {
      const p = principalOf(request);
      const all = await workflows.list();
      const projects = await ctx.auth.identity.projectsOf('workflow', all.map((w) => w.workflow));
      const listed = all.map((w) => ({ ...w, project: projects.get(w.workflow) ?? DEFAULT_PROJECT }));
      return { workflows: p.superuser ? listed : listed.filter((w) => canSee(p, w.project)) };
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
