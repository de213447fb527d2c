import type { TaskStatus } from '@cellgraph/schema';

/**
 * What the DAG shows of a run, as pure functions: one CSS class per task state, and the
 * caption under a task's name (state, duration, attempts, cached).
 */

export type TaskState = TaskStatus;

/** What the DAG needs of a task in a run (a subset of the API's task summary). */
export interface TaskRunInfo {
  name: string;
  status: TaskState;
  attempts: number;
  cached: boolean;
  durationMs?: number;
  error?: string;
}

/** The class a node carries for a task's state (`cg-state-<status>`, see extension/CONTRACT.md). */
export function stateClass(state: TaskState | undefined): string {
  return state === undefined ? '' : `cg-state-${state}`;
}

/** Tasks named by error diagnostics: their nodes are marked `cg-has-error`. */
export function tasksWithErrors(diagnostics: { task?: string; severity: string }[]): Set<string> {
  return new Set(diagnostics.filter((d) => d.severity === 'error' && d.task !== undefined).map((d) => d.task as string));
}

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * The caption under a task's name during and after a run. A cached task says so (it did not
 * run); a retried one says which attempt it is on or took; durations are the task's own.
 */
export function runCaption(task: TaskRunInfo | undefined): string {
  if (task === undefined) return '';
  const attempts = task.attempts > 1 ? `${task.attempts} attempts` : '';
  const duration = task.durationMs !== undefined ? formatDuration(task.durationMs) : '';
  switch (task.status) {
    case 'cached':
      return 'cached';
    case 'running':
      return task.attempts > 1 ? `running · attempt ${task.attempts}` : 'running';
    case 'retrying':
      return `retrying · ${task.attempts} failed`;
    case 'succeeded':
    case 'failed':
      return [task.status, duration, attempts].filter(Boolean).join(' · ');
    default:
      return task.status;
  }
}

/** The tooltip of a node: its caption and, for a failed task, the error. */
export function runTooltip(task: TaskRunInfo | undefined): string {
  if (task === undefined) return '';
  return [`${task.name}: ${runCaption(task)}`, task.error].filter(Boolean).join('\n');
}

/** Approximate advance of a node caption's 10px monospace character. */
const CAPTION_CHAR_WIDTH = 6.1;

/**
 * The failure reason shown on a failed task's node: the error's first line, cut with `…` to
 * fit a node `width` pixels wide (the whole error is in the node's tooltip). Empty otherwise.
 */
export function errorLine(task: TaskRunInfo | undefined, width: number): string {
  if (task?.status !== 'failed' || task.error === undefined) return '';
  const first = task.error.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  const max = Math.max(4, Math.floor((width - 12) / CAPTION_CHAR_WIDTH));
  return first.length <= max ? first : `${first.slice(0, max - 1).trimEnd()}…`;
}
