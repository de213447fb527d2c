import type { ElementCounts, ElementRecord, TaskStatus } from '@cellgraph/schema';

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
  /** A foreach task's element counts. */
  elements?: ElementCounts;
  /** Why a skipped task was skipped, in the server's words (`condition false: <when>`, …). */
  skipReason?: string;
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

/**
 * Why a task did not run, for a skipped task: the server's reason (`condition false: best > 1000`,
 * `upstream task u was skipped`, `not started: the run failed first`). Empty for any other state,
 * so an older server's reason-less summary shows nothing rather than a guess.
 */
export function skipReason(task: Pick<TaskRunInfo, 'status' | 'skipReason'> | undefined): string {
  return task?.status === 'skipped' ? (task.skipReason ?? '') : '';
}

/** The tooltip of a node: its caption and, for a failed task, the error; for a skipped one, why. */
export function runTooltip(task: TaskRunInfo | undefined): string {
  if (task === undefined) return '';
  const elements = task.elements !== undefined ? elementCountsTitle(task.elements) : '';
  return [`${task.name}: ${runCaption(task)}`, elements, task.error, skipReason(task)].filter(Boolean).join('\n');
}

/** The element states a foreach node counts, in the order it shows them, each with its mark. */
const ELEMENT_MARKS: { state: keyof Omit<ElementCounts, 'total'>; mark: string }[] = [
  { state: 'succeeded', mark: '✓' },
  { state: 'cached', mark: '↺' },
  { state: 'failed', mark: '✗' },
  { state: 'running', mark: '⏳' },
  { state: 'pending', mark: '…' }
];

/** One coloured count on a foreach node (`18 ✓`); states with no element are left out. */
export interface ElementCountPart {
  state: ElementRecord['state'];
  text: string;
}

/**
 * A foreach node's element counts as coloured parts and the total: `18 ✓ 1 ✗ 1 ⏳` and
 * `/ 20` (cached `↺`, not started `…`). No element yet: only the total.
 */
export function elementCountParts(e: ElementCounts): { parts: ElementCountPart[]; total: string } {
  const parts = ELEMENT_MARKS.filter((m) => e[m.state] > 0).map((m) => ({ state: m.state, text: `${e[m.state]} ${m.mark}` }));
  return { parts, total: `/ ${e.total}` };
}

/** The counts in words, for tooltips: `20 elements: 18 succeeded, 1 failed, 1 running`. */
export function elementCountsTitle(e: ElementCounts): string {
  const parts = ELEMENT_MARKS.filter((m) => e[m.state] > 0).map((m) => `${e[m.state]} ${m.state === 'pending' ? 'not started' : m.state}`);
  return `${e.total} element${e.total === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

/** True while a foreach task still has elements to run (the DAG then refreshes its counts each second). */
export function elementsLive(task: Pick<TaskRunInfo, 'status' | 'elements'>): boolean {
  return task.status === 'running' && task.elements !== undefined && task.elements.running + task.elements.pending > 0;
}

/** One element as the elements list shows it: `#3`, its state, attempts, duration, the error's first line. */
export function elementRow(e: ElementRecord): { index: string; state: string; attempts: string; duration: string; error: string } {
  return {
    index: `#${e.index}`,
    state: e.state,
    attempts: String(e.attempts),
    duration: e.durationMs !== undefined ? formatDuration(e.durationMs) : e.state === 'running' ? 'running' : '—',
    error: e.error?.split('\n').find((l) => l.trim() !== '')?.trim() ?? ''
  };
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
