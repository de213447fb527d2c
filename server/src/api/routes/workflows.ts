import {
  DiffPathParams,
  ListVersionsResponse,
  ListWorkflowsResponse,
  PromoteRequest,
  PromoteResponse,
  RunDetail,
  VersionDiffResponse,
  VersionPathParams,
  VersionRunRequest,
  WorkflowPathParams
} from '@cellgraph/schema';
import type { ApiContext } from '../context';
import { HttpError } from '../http-errors';
import { jsonRoute, type ApiRoute } from '../route';
import { assertNoParamConflict, runWebhooks } from '../run-service';

/** Promotion and versions of workflows. */
export function workflowRoutes(ctx: ApiContext): ApiRoute[] {
  const { workflows } = ctx;
  return [
    jsonRoute({
      method: 'POST',
      url: '/api/v1/workflows/promote',
      summary: 'compile and freeze a notebook as a workflow version (the same content twice is one version); optionally run it',
      tag: 'workflows',
      body: PromoteRequest,
      response: PromoteResponse,
      status: 201,
      handler: async ({ body }) => {
        if (body.run && ctx.runs.isDraining) throw new HttpError(503, 'unavailable', 'the server is shutting down; no new runs');
        return workflows.promote(body);
      }
    }),
    jsonRoute({
      method: 'GET',
      url: '/api/v1/workflows',
      summary: 'promoted workflows with their latest version',
      tag: 'workflows',
      response: ListWorkflowsResponse,
      handler: async () => ({ workflows: await workflows.list() })
    }),
    jsonRoute({
      method: 'GET',
      url: '/api/v1/workflows/:name/versions',
      summary: "a workflow's promoted versions, oldest first",
      tag: 'workflows',
      params: WorkflowPathParams,
      response: ListVersionsResponse,
      handler: async ({ params }) => ({ workflow: params.name, versions: await workflows.versions(params.name) })
    }),
    jsonRoute({
      method: 'GET',
      url: '/api/v1/workflows/:name/versions/:a/diff/:b',
      summary: 'what changed from version a to version b, task by task (versions by number or content hash)',
      tag: 'workflows',
      params: DiffPathParams,
      response: VersionDiffResponse,
      handler: async ({ params }) => workflows.diff(params.name, params.a, params.b)
    }),
    jsonRoute({
      method: 'POST',
      url: '/api/v1/workflows/:name/versions/:v/runs',
      summary: 'run a promoted version exactly as frozen',
      tag: 'workflows',
      params: VersionPathParams,
      body: VersionRunRequest,
      response: RunDetail,
      status: 201,
      handler: async ({ params, body }) => {
        assertNoParamConflict(body.params, body.paramAssignments);
        const { webhookUrl, ...options } = body;
        if (webhookUrl !== undefined) await ctx.notifier.guard.check(webhookUrl, 'body.webhookUrl');
        return workflows.runVersion(await workflows.resolve(params.name, params.v), { ...options, webhooks: runWebhooks(webhookUrl) });
      }
    })
  ];
}
