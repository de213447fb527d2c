import {
  CreateRunRequest,
  EventsQuery,
  ListRunsQuery,
  ListRunsResponse,
  LogsQuery,
  RetryRunRequest,
  RunDetail,
  RunEvent,
  RunLogsResponse,
  RunPathParams,
  TaskOutputsResponse,
  TaskPathParams
} from '@cellgraph/schema';
import { z } from 'zod';
import type { ApiContext } from '../context';
import { HttpError } from '../http-errors';
import { compileSubmitted, readSubmittedNotebook } from '../notebook-source';
import { jsonRoute, streamRoute, type ApiRoute } from '../route';
import { assertNoParamConflict, runWebhooks } from '../run-service';

const LastEventId = z.coerce.number().int().min(-1);

/** How often an event stream on a shared database reads events another replica wrote. */
const SHARED_EVENTS_POLL_MS = 500;

/** Runs: submit, list, inspect, cancel, retry, logs, outputs, executed notebook, live events. */
export function runRoutes(ctx: ApiContext): ApiRoute[] {
  const { runs } = ctx;
  return [
    jsonRoute({
      method: 'POST',
      url: '/api/v1/runs',
      summary: 'compile a notebook (a path on the server or its content) and start a run; 422 with diagnostics when it does not compile',
      tag: 'runs',
      body: CreateRunRequest,
      response: RunDetail,
      status: 201,
      handler: async ({ body }) => {
        if (runs.isDraining) throw new HttpError(503, 'unavailable', 'the server is shutting down; no new runs');
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
          webhooks: runWebhooks(body.webhookUrl)
        });
      }
    }),
    jsonRoute({
      method: 'GET',
      url: '/api/v1/runs',
      summary: 'recent runs, newest first',
      tag: 'runs',
      query: ListRunsQuery,
      response: ListRunsResponse,
      handler: async ({ query }) => ({ runs: await runs.list(query) })
    }),
    jsonRoute({
      method: 'GET',
      url: '/api/v1/runs/:id',
      summary: 'a run with per-task state',
      tag: 'runs',
      params: RunPathParams,
      response: RunDetail,
      handler: async ({ params }) => runs.detail(params.id)
    }),
    jsonRoute({
      method: 'POST',
      url: '/api/v1/runs/:id/cancel',
      summary: 'cancel a queued or running run (409 otherwise)',
      tag: 'runs',
      params: RunPathParams,
      response: RunDetail,
      handler: async ({ params }) => runs.cancel(params.id)
    }),
    jsonRoute({
      method: 'POST',
      url: '/api/v1/runs/:id/retry',
      summary: 'start a new run from the failed tasks of a failed or cancelled run, reusing what succeeded',
      tag: 'runs',
      params: RunPathParams,
      body: RetryRunRequest,
      response: RunDetail,
      status: 201,
      handler: async ({ params, body }) => runs.retry(params.id, body)
    }),
    jsonRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/logs',
      summary: "every attempt's output per task; attempts still running are marked live",
      tag: 'runs',
      params: RunPathParams,
      query: LogsQuery,
      response: RunLogsResponse,
      handler: async ({ params, query }) => runs.logs(params.id, query)
    }),
    jsonRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/tasks/:task/outputs',
      summary: "a task's outputs (encoded values with TypeScript types) and metrics",
      tag: 'runs',
      params: TaskPathParams,
      response: TaskOutputsResponse,
      handler: async ({ params }) => runs.outputs(params.id, params.task)
    }),
    streamRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/notebook',
      summary: 'the executed notebook (nbformat 4), once the run ended',
      tag: 'runs',
      params: RunPathParams,
      produces: 'application/x-ipynb+json',
      handler: async ({ params, reply }) => {
        const nb = await runs.executedNotebook(params.id);
        await reply
          .status(200)
          .type('application/x-ipynb+json')
          .header('content-disposition', `attachment; filename="${params.id}.ipynb"`)
          .send(JSON.stringify(nb, null, 1));
      }
    }),
    streamRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/events',
      summary: 'run and task events as Server-Sent Events (`id:` = event seq; send Last-Event-ID to resume); ends after the run ends',
      tag: 'runs',
      params: RunPathParams,
      query: EventsQuery,
      produces: 'text/event-stream',
      handler: async ({ params, query, request, reply }) => {
        const header = request.headers['last-event-id'];
        let after = query.after ?? -1;
        if (header !== undefined) {
          const parsed = LastEventId.safeParse(Array.isArray(header) ? header[0] : header);
          if (!parsed.success) throw new HttpError(400, 'invalid', 'header.last-event-id: must be an event seq (integer)', 'header.last-event-id');
          after = parsed.data;
        }
        await ctx.state.getRun(params.id); // 404 before the stream starts
        reply.hijack();
        const stream = ctx.streams.start(reply.raw);
        const terminal = (e: RunEvent) => e.kind === 'run' && (e.status === 'succeeded' || e.status === 'failed' || e.status === 'cancelled');
        const send = (e: RunEvent) => {
          if (e.seq <= after || stream.closed) return;
          after = e.seq;
          stream.send({ id: e.seq, data: e });
          if (terminal(e)) stream.end();
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
      }
    })
  ];
}
