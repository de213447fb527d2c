import { DEFAULT_PROJECT, EventsHeaders, apiRoutes, isFinalRunEvent, type RunEvent } from '@cellgraph/schema';
import { canSee, principalOf, projectsOfRuns } from '../../auth';
import type { ApiContext } from '../context';
import { UnavailableError } from '../../errors';
import { compileSubmitted, readSubmittedNotebook } from '../notebook-source';
import { jsonRoute, streamRoute, type ApiRoute } from '../route';
import { assertNoParamConflict, runWebhooks } from '../run-service';

/** How often an event stream on a shared database reads events another replica wrote. */
const SHARED_EVENTS_POLL_MS = 500;

/** Runs: submit, list, inspect, cancel, retry, logs, outputs, executed notebook, live events. */
export function runRoutes(ctx: ApiContext): ApiRoute[] {
  const { runs } = ctx;
  return [
    jsonRoute(apiRoutes.createRun, async ({ body }) => {
      if (runs.isDraining) throw new UnavailableError('the server is shutting down; no new runs');
      assertNoParamConflict(body.params, body.paramAssignments);
      const nb = readSubmittedNotebook(body, ctx.config.workDir);
      if (body.webhookUrl !== undefined) await ctx.notifier.guard.check(body.webhookUrl, 'body.webhookUrl');
      const { ir } = await compileSubmitted(ctx.compiles, ctx.store, nb);
      return runs.launch({
        ir,
        notebookText: nb.text,
        notebookPath: nb.path,
        params: body.params,
        paramAssignments: body.paramAssignments,
        noCache: body.noCache,
        webhooks: runWebhooks(body.webhookUrl),
        project: body.project
      });
    }),
    jsonRoute(apiRoutes.listRuns, async ({ query, request }) => {
      const p = principalOf(request);
      const limit = query.limit ?? 50;
      // Filtered by project (what the caller sees, or the one asked for): among the latest 1000, then the limit.
      const filtered = !p.superuser || query.project !== undefined;
      const all = await runs.list({ status: query.status, workflow: query.workflow, limit: filtered ? 1000 : limit });
      const projects = await projectsOfRuns({ identity: ctx.auth.identity, state: ctx.state }, all);
      const visible = all
        .map((r) => ({ ...r, project: projects.get(r.id) ?? DEFAULT_PROJECT }))
        .filter((r) => canSee(p, r.project) && (query.project === undefined || r.project === query.project));
      return { runs: visible.slice(0, limit) };
    }),
    jsonRoute(apiRoutes.getRun, async ({ params }) => runs.detail(params.id)),
    jsonRoute(apiRoutes.cancelRun, async ({ params }) => runs.cancel(params.id)),
    jsonRoute(apiRoutes.retryRun, async ({ params, body }) => runs.retry(params.id, body)),
    jsonRoute(apiRoutes.runLogs, async ({ params, query }) => runs.logs(params.id, query)),
    jsonRoute(apiRoutes.taskOutputs, async ({ params }) => runs.outputs(params.id, params.task)),
    jsonRoute(apiRoutes.taskElements, async ({ params, query }) => runs.elements(params.id, params.task, query)),
    streamRoute(apiRoutes.executedNotebook, async ({ params, reply }) => {
      const nb = await runs.executedNotebook(params.id);
      await reply
        .status(200)
        .type('application/x-ipynb+json')
        .header('content-disposition', `attachment; filename="${params.id}.ipynb"`)
        .send(JSON.stringify(nb, null, 1));
    }),
    streamRoute(apiRoutes.runEvents, async ({ params, query, request, reply }) => {
      // Last-Event-ID (a reconnecting client) takes precedence over `after`.
      let after = EventsHeaders.parse(request.headers)['last-event-id'] ?? query.after ?? -1;
      await ctx.state.getRun(params.id); // 404 before the stream starts
      reply.hijack();
      const stream = ctx.streams.start(reply.raw);
      const send = (e: RunEvent) => {
        if (e.seq <= after || stream.closed) return;
        after = e.seq;
        stream.send({ id: e.seq, data: e });
        if (isFinalRunEvent(e)) stream.end();
      };
      // Subscribe before reading history, buffer live events meanwhile: nothing falls in between.
      let buffered: RunEvent[] | undefined = [];
      const unsubscribe = ctx.engine.onEvent((e) => {
        if (e.runId !== params.id) return;
        if (buffered !== undefined) buffered.push(e);
        else send(e);
      });
      stream.onClose(unsubscribe);
      if (ctx.state.coordination.shared) {
        // The run may be executing on another replica: its events arrive through the database.
        let polling = false;
        const poll = setInterval(() => {
          if (polling || buffered !== undefined) return;
          polling = true;
          void ctx.state
            .listEvents(params.id, after)
            .then((events) => events.forEach(send))
            .catch(() => undefined)
            .finally(() => (polling = false));
        }, SHARED_EVENTS_POLL_MS);
        stream.onClose(() => clearInterval(poll));
      }
      for (const e of await ctx.state.listEvents(params.id, after)) send(e);
      const pending: RunEvent[] = buffered;
      buffered = undefined;
      for (const e of pending.sort((a, b) => a.seq - b.seq)) send(e);
      const run = await ctx.state.getRun(params.id);
      if (!stream.closed && run.status !== 'running' && run.status !== 'queued') {
        // A finished run: its status is written just before its last event, so read the
        // tail once more, then end (the client already has everything).
        for (const e of await ctx.state.listEvents(params.id, after)) send(e);
        stream.end();
      }
    })
  ];
}
