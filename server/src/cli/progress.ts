import type { RunEvent } from '@cellgraph/schema';
import type { TaskLog } from '../engine/engine';
import { err } from './output';

const MARK: Record<string, string> = {
  queued: '·',
  running: '▶',
  retrying: '↻',
  succeeded: '✔',
  cached: '≡',
  failed: '✘',
  cancelled: '■',
  skipped: '-'
};

/**
 * Prints one line per task state change on stderr while a run goes on. `queued` and
 * `pending` are left out: they are the normal wait and would double the lines.
 */
export function progressPrinter(taskWidth: number): (e: RunEvent) => void {
  const started = new Map<string, number>();
  return (e) => {
    if (e.kind !== 'task' || e.task === undefined) return;
    if (e.status === 'queued' || e.status === 'pending') return;
    const name = e.task.padEnd(taskWidth);
    if (e.status === 'running') started.set(e.task, Date.parse(e.time));
    const since = started.get(e.task);
    const took = since !== undefined && e.status !== 'running' ? ` in ${((Date.parse(e.time) - since) / 1000).toFixed(2)}s` : '';
    const attempt = e.status === 'running' && (e.attempt ?? 1) > 1 ? ` (attempt ${e.attempt})` : '';
    const message = e.message && e.status !== 'succeeded' ? `: ${firstLine(e.message)}` : '';
    err(`  ${MARK[e.status] ?? ' '} ${name} ${e.status}${attempt}${took}${message}`);
  };
}

/** Prints task output prefixed with the task name (for `run --logs`). */
export function logPrinter(taskWidth: number): (l: TaskLog) => void {
  const partial = new Map<string, string>();
  return (l) => {
    const key = `${l.task}/${l.stream}`;
    const text = (partial.get(key) ?? '') + l.text;
    const lines = text.split('\n');
    partial.set(key, lines.pop() ?? '');
    for (const line of lines) err(`    ${l.task.padEnd(taskWidth)} | ${line}`);
  };
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
