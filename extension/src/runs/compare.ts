import type { JsonValue, RunDetail } from '@cellgraph/schema';
import { formatDuration, skipReason } from '../dag/state';
import { formatNumber } from './table';

/** One line of the side-by-side comparison of two runs. */
export interface CompareRow {
  section: 'run' | 'param' | 'metric' | 'task';
  key: string;
  a: string;
  b: string;
  /** The two runs differ here. */
  differs: boolean;
}

function text(v: JsonValue | undefined): string {
  if (v === undefined) return '—';
  return typeof v === 'number' ? formatNumber(v) : typeof v === 'string' ? v : JSON.stringify(v);
}

/** A task's status and duration as the comparison shows it (`cached`, `succeeded · 1.2 s`, `skipped · condition false: k > 3`). */
function taskText(t: RunDetail['tasks'][number] | undefined): string {
  if (t === undefined) return '—';
  if (t.status === 'cached') return 'cached';
  return [t.status, t.durationMs !== undefined ? formatDuration(t.durationMs) : '', t.attempts > 1 ? `${t.attempts} attempts` : '', skipReason(t)].filter(Boolean).join(' · ');
}

/**
 * Two runs side by side: status, version, trigger and duration; every parameter and metric
 * either has (a run without it shows `—`); each task's status and duration (a skipped one's reason). Rows where the
 * runs differ are flagged (task durations always differ a little: only the status counts).
 */
export function compareRuns(a: RunDetail, b: RunDetail): CompareRow[] {
  const rows: CompareRow[] = [];
  const push = (section: CompareRow['section'], key: string, x: string, y: string, differs = x !== y) => rows.push({ section, key, a: x, b: y, differs });
  push('run', 'status', a.status, b.status);
  push('run', 'version', a.version.slice(0, 19), b.version.slice(0, 19));
  push('run', 'trigger', a.trigger ?? 'manual', b.trigger ?? 'manual');
  push('run', 'duration', a.durationMs !== undefined ? formatDuration(a.durationMs) : '—', b.durationMs !== undefined ? formatDuration(b.durationMs) : '—', false);
  const keys = (x: Record<string, JsonValue>, y: Record<string, JsonValue>) => [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  for (const k of keys(a.params, b.params)) push('param', k, text(a.params[k]), text(b.params[k]));
  const [ma, mb] = [a.metrics ?? {}, b.metrics ?? {}];
  for (const k of keys(ma, mb)) push('metric', k, text(ma[k]), text(mb[k]));
  const names = [...new Set([...a.tasks.map((t) => t.name), ...b.tasks.map((t) => t.name)])];
  for (const name of names) {
    const [ta, tb] = [a.tasks.find((t) => t.name === name), b.tasks.find((t) => t.name === name)];
    push('task', name, taskText(ta), taskText(tb), ta?.status !== tb?.status);
  }
  return rows;
}
