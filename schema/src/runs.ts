import { z } from 'zod';
import { ContentHash, RunId, TaskName } from './names';
import { CellOutput, JsonValue } from './notebook';

export const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatus>;

/**
 * A task's state within a run. `pending`: waiting on upstream tasks; `queued`: ready, waiting
 * for a slot; `retrying`: an attempt failed and the next waits out its backoff; `skipped`:
 * never started because an upstream task failed or the run was cancelled first, or its
 * `when` condition was false, or (trigger `all-succeeded`) an upstream task was skipped.
 */
export const TaskStatus = z.enum(['pending', 'queued', 'running', 'retrying', 'succeeded', 'cached', 'failed', 'cancelled', 'skipped']);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** True for states a task never leaves. */
export function isTerminalTaskStatus(s: TaskStatus): boolean {
  return s === 'succeeded' || s === 'cached' || s === 'failed' || s === 'cancelled' || s === 'skipped';
}

/** A reference to a value in the artifact store: never the value itself (records stay small). */
export const ArtifactRef = z.object({
  hash: ContentHash,
  size: z.number().int().min(0)
});
export type ArtifactRef = z.infer<typeof ArtifactRef>;

/** A task output: name, TypeScript type, and where its encoded value lives. */
export const OutputRef = ArtifactRef.extend({ name: z.string(), type: z.string() });
export type OutputRef = z.infer<typeof OutputRef>;

/** A metric logged by task code with `metric(name, value)`. */
export const MetricValue = z.union([z.number(), z.string(), z.boolean()]);
export const Metrics = z.record(MetricValue);
export type Metrics = z.infer<typeof Metrics>;

/** Why a task attempt failed, with the cell that threw when known. */
export const TaskError = z.object({
  name: z.string(),
  message: z.string(),
  cell: z.number().int().min(0).optional(),
  /** The line in that cell (1-based), from the source map of the generated task module. */
  line: z.number().int().min(1).optional(),
  /** `error` (code threw), `exit` (process exited non-zero), `timeout`, `cancelled`, `infrastructure`. */
  kind: z.enum(['error', 'exit', 'timeout', 'cancelled', 'infrastructure']),
  stack: z.string().optional()
});
export type TaskError = z.infer<typeof TaskError>;

/** One executed cell: its nbformat outputs and timing, for the executed notebook. */
export const CellRun = z.object({
  cell: z.number().int().min(0),
  outputs: z.array(CellOutput),
  startedAt: z.string(),
  durationMs: z.number().min(0)
});
export type CellRun = z.infer<typeof CellRun>;

/** How many elements of a foreach task are in each state. */
export const ElementCounts = z.object({
  total: z.number().int().min(0),
  succeeded: z.number().int().min(0),
  cached: z.number().int().min(0),
  failed: z.number().int().min(0),
  running: z.number().int().min(0),
  pending: z.number().int().min(0)
});
export type ElementCounts = z.infer<typeof ElementCounts>;

/** The state of one element of a foreach task (`pending` also while a retry waits out its backoff). */
export const ElementState = z.enum(['pending', 'running', 'succeeded', 'cached', 'failed']);
export type ElementState = z.infer<typeof ElementState>;

/** One element of a foreach task in a run: what `GET /runs/:id/tasks/:task/elements` lists. */
export const ElementRecord = z.object({
  /** The element's position in the list (0-based). */
  index: z.number().int().min(0),
  state: ElementState,
  /** Attempts started in this run (0 for a cached element or one not started). */
  attempts: z.number().int().min(0),
  cached: z.boolean(),
  /** When its latest attempt started (ISO 8601). */
  startedAt: z.string().optional(),
  /** How long its latest attempt ran, once it ended. */
  durationMs: z.number().min(0).optional(),
  /** Why its last attempt failed. */
  error: z.string().optional()
});
export type ElementRecord = z.infer<typeof ElementRecord>;

/** The durable record of one task in one run. */
export const TaskRunRecord = z.object({
  runId: RunId,
  task: TaskName,
  status: TaskStatus,
  attempts: z.number().int().min(0),
  cached: z.boolean(),
  cacheKey: ContentHash.optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  durationMs: z.number().min(0).optional(),
  outputs: z.array(OutputRef),
  metrics: Metrics,
  error: TaskError.optional(),
  /** A foreach task's element counts (absent for other tasks). */
  elements: ElementCounts.optional()
});
export type TaskRunRecord = z.infer<typeof TaskRunRecord>;

/** Run options persisted with the run: a resume on any replica runs it as it was submitted. */
export const RunOptions = z.object({
  /** Cached results were refused: every task runs (fresh results are still cached). */
  noCache: z.boolean().optional(),
  /** For a scheduled run: the fire instant it stands for (ISO 8601). */
  scheduledFor: z.string().optional(),
  /** For a scheduled run: how long after `scheduledFor` the run was created. */
  firedLateMs: z.number().min(0).optional()
});
export type RunOptions = z.infer<typeof RunOptions>;

/** The durable record of a run. Values live in the artifact store; this holds references. */
export const RunRecord = z.object({
  id: RunId,
  workflow: TaskName,
  version: ContentHash,
  notebookPath: z.string(),
  params: z.record(JsonValue),
  status: RunStatus,
  executor: z.string(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  error: z.string().optional(),
  /** Store key of the executed notebook, once written. */
  executedNotebook: z.string().optional(),
  /** How the run was asked to run, kept with it so a resumed run (restart, failover) honours it. */
  options: RunOptions.optional()
});
export type RunRecord = z.infer<typeof RunRecord>;

/** The per-task line of `cellgraph run --json`. */
export const TaskSummary = z.object({
  name: TaskName,
  status: TaskStatus,
  attempts: z.number().int().min(0),
  cached: z.boolean(),
  durationMs: z.number().min(0).optional(),
  outputs: z.array(z.object({ name: z.string(), type: z.string() })),
  metrics: Metrics,
  error: z.string().optional(),
  elements: ElementCounts.optional(),
  /** Why a skipped task was skipped: `condition false: <when>`, `upstream task <u> was skipped`, or `not started: …`. */
  skipReason: z.string().optional(),
  /** Where a failed task's error was raised in the notebook: cell index (0-based) and line (1-based), when known. */
  errorAt: z.object({ cell: z.number().int().min(0), line: z.number().int().min(1).optional() }).optional()
});
export type TaskSummary = z.infer<typeof TaskSummary>;

/** What `cellgraph run --json` prints, and what the API returns for a finished run. */
export const RunSummary = z.object({
  runId: RunId,
  workflow: TaskName,
  version: ContentHash,
  status: RunStatus,
  params: z.record(JsonValue),
  durationMs: z.number().min(0).optional(),
  executedNotebook: z.string().optional(),
  tasks: z.array(TaskSummary)
});
export type RunSummary = z.infer<typeof RunSummary>;

/** A run or task state change, in order (`seq` increases per run; resumable streams key on it). */
export const RunEvent = z.object({
  seq: z.number().int().min(0),
  runId: RunId,
  time: z.string(),
  kind: z.enum(['run', 'task']),
  status: z.union([RunStatus, TaskStatus]),
  task: TaskName.optional(),
  attempt: z.number().int().min(0).optional(),
  message: z.string().optional()
});
export type RunEvent = z.infer<typeof RunEvent>;

/** A log line of a task attempt, as executors stream them. */
export const LogLine = z.object({
  runId: RunId,
  task: TaskName,
  attempt: z.number().int().min(1),
  stream: z.enum(['stdout', 'stderr']),
  text: z.string()
});
export type LogLine = z.infer<typeof LogLine>;
