import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { LargeDagFigures } from './large-dag-worker';

type Report = (name: string, value: number, unit: string, target?: string) => void;

/** Runs the worker in a fresh Node process and returns its figures. */
function worker(root: string, ...args: string[]): LargeDagFigures {
  const script = path.join(__dirname, 'large-dag-worker.js');
  const r = spawnSync(process.execPath, ['--expose-gc', script, root, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`large-dag worker exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as LargeDagFigures;
}

/**
 * The 10,000-task DAG (instant executor: the engine's own cost, no processes) in a fresh
 * Node process, so the peak RSS is the engine's and not the bench's other sections'; then
 * again in another fresh process that first reads the same IR back from the store and
 * validates it (the boundary parse a `cellgraph run` of an unchanged notebook pays).
 */
export async function benchLargeDag(root: string, report: Report): Promise<void> {
  const f = worker(root, 'handed');
  const mib = (bytes: number) => bytes / 1024 / 1024;
  report(`${f.tasks}-task DAG through the engine (instant executor): wall time`, f.ms, 'ms');
  report(`${f.tasks}-task DAG: engine scheduling cost per task`, f.ms / f.tasks, 'ms');
  report(`${f.tasks}-task DAG: peak RSS of the engine process (IR handed over validated)`, mib(f.peakRss), 'MiB', '<= 150 MiB');
  report(`${f.tasks}-task DAG: RSS of that process before the IR (Node + modules)`, mib(f.startRss), 'MiB');
  report(`${f.tasks}-task DAG: live heap after the run (IR + records), per task`, f.liveHeap / f.tasks / 1024, 'KiB');
  const loaded = worker(root, 'loaded', f.version);
  report(`${f.tasks}-task DAG, IR read from the store and validated (zod) first: RSS once read`, mib(loaded.irRss), 'MiB');
  report(`${f.tasks}-task DAG, IR read from the store and validated first: peak RSS`, mib(loaded.peakRss), 'MiB');
}
