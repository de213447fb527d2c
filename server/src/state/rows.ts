import { z } from 'zod';
import {
  DeliveryStatus,
  ElementCounts,
  JsonValue,
  Metrics,
  OutputRef,
  RunEvent,
  RunNotification,
  RunOptions,
  RunRecord,
  Schedule,
  TaskError,
  TaskRunRecord,
  WebhookDelivery,
  WebhookSource
} from '@cellgraph/schema';
import { StateError } from '../errors';
import type { PendingDelivery } from './notification-store';
import type { DeliveryPatch } from './notification-store';
import type { CacheEntry, RunPatch, TaskRunPatch } from './state-store';
import type { VersionRecord } from './version-store';

/*
 * Rows of the state database as both dialects return them, and their conversion to and
 * from the schema's records: one place, so SQLite and PostgreSQL read the same columns
 * the same way. A row that does not parse is corrupt state, reported rather than passed on.
 */

/** Named parameters for a run row: every column present (better-sqlite3 refuses missing ones). */
/** Columns of the run fields that change while a run runs. */
export const RUN_PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  status: 'status',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  error: 'error',
  executedNotebook: 'executed_notebook'
};

/** Columns of the task-run fields that change while a task runs. */
export const TASK_PATCH_COLUMNS: Record<keyof TaskRunPatch, string> = {
  status: 'status',
  attempts: 'attempts',
  cached: 'cached',
  cacheKey: 'cache_key',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  durationMs: 'duration_ms',
  outputs: 'outputs',
  metrics: 'metrics',
  error: 'error',
  elements: 'elements'
};

/** Columns of a webhook delivery's changing fields. */
export const DELIVERY_PATCH_COLUMNS: Record<keyof DeliveryPatch | 'updatedAt', string> = {
  status: 'status',
  attempts: 'attempts',
  statusCode: 'status_code',
  error: 'error',
  updatedAt: 'updated_at'
};

/**
 * The WHERE clause and parameters (`?`, the limit last) of a run listing: by status and
 * workflow when given, at most 1000 rows.
 */
export function runFilter(options: { limit?: number; status?: RunRecord['status']; workflow?: string }): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (options.status !== undefined) {
    conditions.push('status = ?');
    params.push(options.status);
  }
  if (options.workflow !== undefined) {
    conditions.push('workflow = ?');
    params.push(options.workflow);
  }
  params.push(Math.max(1, Math.min(options.limit ?? 50, 1000)));
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/** A task-run patch encoded as its columns store it (JSON text, 0/1), fields it does not name left out. */
export function encodeTaskPatch(patch: TaskRunPatch): Record<string, unknown> {
  const encoded: Record<string, unknown> = {};
  for (const k in patch) {
    const v = patch[k as keyof TaskRunPatch];
    encoded[k] = k === 'outputs' || k === 'metrics' || k === 'error' || k === 'elements' ? (v === undefined ? null : JSON.stringify(v)) : k === 'cached' ? (v ? 1 : 0) : v;
  }
  return encoded;
}

export function runRow(r: RunRecord): Record<string, unknown> {
  return {
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    notebookPath: r.notebookPath,
    params: JSON.stringify(r.params),
    status: r.status,
    executor: r.executor,
    createdAt: r.createdAt,
    startedAt: r.startedAt ?? null,
    finishedAt: r.finishedAt ?? null,
    error: r.error ?? null,
    executedNotebook: r.executedNotebook ?? null,
    options: r.options === undefined ? null : JSON.stringify(RunOptions.parse(r.options))
  };
}

/** Named parameters for a task row. */
export function taskRow(t: TaskRunRecord): Record<string, unknown> {
  return {
    runId: t.runId,
    task: t.task,
    status: t.status,
    attempts: t.attempts,
    cached: t.cached ? 1 : 0,
    cacheKey: t.cacheKey ?? null,
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    durationMs: t.durationMs ?? null,
    outputs: JSON.stringify(t.outputs),
    metrics: JSON.stringify(t.metrics),
    error: t.error === undefined ? null : JSON.stringify(t.error)
  };
}

export const nullableString = z.string().nullable();

const RunRow = z.object({
  id: z.string(),
  workflow: z.string(),
  version: z.string(),
  notebook_path: z.string(),
  params: z.string(),
  status: z.string(),
  executor: z.string(),
  created_at: z.string(),
  started_at: nullableString,
  finished_at: nullableString,
  error: nullableString,
  executed_notebook: nullableString,
  options: nullableString
});

export function parseRunRow(row: unknown): RunRecord {
  const r = RunRow.parse(row);
  return RunRecord.parse({
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    notebookPath: r.notebook_path,
    params: z.record(JsonValue).parse(JSON.parse(r.params)),
    status: r.status,
    executor: r.executor,
    createdAt: r.created_at,
    startedAt: r.started_at ?? undefined,
    finishedAt: r.finished_at ?? undefined,
    error: r.error ?? undefined,
    executedNotebook: r.executed_notebook ?? undefined,
    options: r.options === null ? undefined : RunOptions.parse(JSON.parse(r.options))
  });
}

const TaskRow = z.object({
  run_id: z.string(),
  task: z.string(),
  status: z.string(),
  attempts: z.number(),
  cached: z.number(),
  cache_key: nullableString,
  started_at: nullableString,
  finished_at: nullableString,
  duration_ms: z.number().nullable(),
  outputs: z.string(),
  metrics: z.string(),
  error: nullableString,
  elements: nullableString.optional()
});

export function parseTaskRow(row: unknown): TaskRunRecord {
  const r = TaskRow.parse(row);
  return TaskRunRecord.parse({
    runId: r.run_id,
    task: r.task,
    status: r.status,
    attempts: r.attempts,
    cached: r.cached === 1,
    cacheKey: r.cache_key ?? undefined,
    startedAt: r.started_at ?? undefined,
    finishedAt: r.finished_at ?? undefined,
    durationMs: r.duration_ms ?? undefined,
    outputs: JSON.parse(r.outputs),
    metrics: JSON.parse(r.metrics),
    error: r.error === null ? undefined : TaskError.parse(JSON.parse(r.error)),
    elements: r.elements === null || r.elements === undefined ? undefined : ElementCounts.parse(JSON.parse(r.elements))
  });
}

const EventRow = z.object({
  run_id: z.string(),
  seq: z.number(),
  time: z.string(),
  kind: z.string(),
  status: z.string(),
  task: nullableString,
  attempt: z.number().nullable(),
  message: nullableString
});

export function parseEventRow(r: unknown): RunEvent {
  const row = EventRow.parse(r);
  return RunEvent.parse({
    seq: row.seq,
    runId: row.run_id,
    time: row.time,
    kind: row.kind,
    status: row.status,
    task: row.task ?? undefined,
    attempt: row.attempt ?? undefined,
    message: row.message ?? undefined
  });
}

const CacheRow = z.object({
  key: z.string(),
  task: z.string(),
  outputs: z.string(),
  metrics: z.string(),
  run_id: z.string(),
  attempt: z.number(),
  created_at: z.string()
});

export function parseCacheRow(row: unknown): CacheEntry {
  const r = CacheRow.parse(row);
  return {
    key: r.key,
    task: r.task,
    outputs: z.array(OutputRef).parse(JSON.parse(r.outputs)),
    metrics: Metrics.parse(JSON.parse(r.metrics)),
    runId: r.run_id,
    attempt: r.attempt,
    createdAt: r.created_at
  };
}

const VersionRow = z.object({
  workflow: z.string(),
  number: z.number(),
  version: z.string(),
  notebook_path: z.string(),
  work_dir: z.string(),
  promoted_at: z.string()
});

export function parseVersionRow(row: unknown): VersionRecord {
  const r = VersionRow.parse(row);
  return { workflow: r.workflow, number: r.number, version: r.version, notebookPath: r.notebook_path, workDir: r.work_dir, promotedAt: r.promoted_at };
}

export function parseScheduleRow(row: unknown): Schedule {
  const { definition } = z.object({ definition: z.string() }).parse(row);
  const parsed = Schedule.safeParse(JSON.parse(definition));
  if (!parsed.success) throw new StateError(`a stored schedule does not parse: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

const DeliveryRow = z.object({
  id: z.number(),
  run_id: z.string(),
  url: z.string(),
  source: WebhookSource,
  payload: z.string(),
  status: DeliveryStatus,
  attempts: z.number(),
  status_code: z.number().nullable(),
  error: nullableString,
  created_at: z.string(),
  updated_at: z.string()
});

export function parseDeliveryRow(row: unknown): PendingDelivery {
  const r = DeliveryRow.parse(row);
  return {
    delivery: WebhookDelivery.parse({
      id: r.id,
      runId: r.run_id,
      url: r.url,
      source: r.source,
      status: r.status,
      attempts: r.attempts,
      statusCode: r.status_code ?? undefined,
      error: r.error ?? undefined,
      createdAt: r.created_at,
      updatedAt: r.updated_at
    }),
    payload: RunNotification.parse(JSON.parse(r.payload))
  };
}
