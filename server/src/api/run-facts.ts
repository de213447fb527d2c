import type { Metrics, RunEvent, RunRecord, RunTrigger, TaskRunRecord, TaskSpan } from '@cellgraph/schema';
import { parseScheduledRunId } from '../scheduler/run-ids';

/**
 * What the runs views compare, derived from a run's durable records (nothing new stored):
 * what started it, how long it took, its metrics in one map, and each task's spans.
 */

/** A schedule's fire (its run id says which schedule), a retry of another run, or else manual. */
export function runTrigger(run: Pick<RunRecord, 'id' | 'options'>, retryOf: string | undefined): { trigger: RunTrigger; scheduleId?: string } {
  const scheduled = parseScheduledRunId(run.id);
  if (scheduled !== undefined || run.options?.scheduledFor !== undefined) return { trigger: 'schedule', ...(scheduled ? { scheduleId: scheduled.scheduleId } : {}) };
  return { trigger: retryOf !== undefined ? 'retry' : 'manual' };
}

/** From start (or creation) to finish, for a finished run. */
export function runDurationMs(run: Pick<RunRecord, 'createdAt' | 'startedAt' | 'finishedAt'>): number | undefined {
  if (run.finishedAt === undefined) return undefined;
  const ms = Date.parse(run.finishedAt) - Date.parse(run.startedAt ?? run.createdAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/** Every task's metrics in one map by name; a name two tasks log is kept as `<task>.<name>` for each. */
export function runMetrics(tasks: readonly Pick<TaskRunRecord, 'task' | 'metrics'>[]): Metrics {
  const count = new Map<string, number>();
  for (const t of tasks) for (const name of Object.keys(t.metrics)) count.set(name, (count.get(name) ?? 0) + 1);
  const out: Metrics = {};
  for (const t of tasks) for (const [name, value] of Object.entries(t.metrics)) out[(count.get(name) ?? 0) > 1 ? `${t.task}.${name}` : name] = value;
  return out;
}

/** States a span is drawn for; the others (succeeded, failed, ...) only end the span before them. */
const SPAN_STATES = new Set(['queued', 'running', 'retrying', 'cached']);

/**
 * Each task's spans from the run's events, in order: every queued, running or retrying event
 * starts a span that the task's next event ends; a cached event is an instant. A span with
 * no later event lasts (no end) while the run is unfinished and ends with the run otherwise.
 */
export function taskSpans(events: readonly RunEvent[], runFinishedAt?: string): Map<string, TaskSpan[]> {
  const spans = new Map<string, TaskSpan[]>();
  for (const e of events) {
    if (e.kind !== 'task' || e.task === undefined) continue;
    const list = spans.get(e.task) ?? [];
    spans.set(e.task, list);
    const open = list[list.length - 1];
    if (open !== undefined && open.end === undefined) open.end = e.time;
    if (!SPAN_STATES.has(e.status)) continue;
    list.push({ state: e.status as TaskSpan['state'], ...(e.attempt !== undefined ? { attempt: e.attempt } : {}), start: e.time, ...(e.status === 'cached' ? { end: e.time } : {}) });
  }
  if (runFinishedAt !== undefined) for (const list of spans.values()) for (const s of list) s.end ??= runFinishedAt;
  return spans;
}
