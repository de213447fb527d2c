/**
 * The 10,000-task DAG through the engine, in a process of its own (started by
 * large-dag.ts with --expose-gc), so its memory is the engine's: no compiler or other
 * bench loaded. Prints one JSON line of figures.
 */
import * as path from 'node:path';
import { Engine } from '@cellgraph/server/dist/engine/engine';
import { SqliteStateStore } from '@cellgraph/server/dist/state/sqlite-state-store';
import { FilesystemStore } from '@cellgraph/server/dist/stores';
import { InstantExecutor, generatedIR } from './instant';

/** What the worker measured. */
export interface LargeDagFigures {
  tasks: number;
  ms: number;
  /** RSS with the modules loaded, before the IR exists. */
  startRss: number;
  peakRss: number;
  /** Live heap after a full GC at the end of the run, IR and records included, minus the same before the IR. */
  liveHeap: number;
}

async function main(root: string): Promise<LargeDagFigures> {
  const n = 10_000;
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  gc();
  const startRss = process.memoryUsage().rss;
  const startHeap = process.memoryUsage().heapUsed;
  let peak = startRss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const ir = generatedIR(n, 100);
  const store = new FilesystemStore(path.join(root, '.cellgraph'));
  const state = SqliteStateStore.open(path.join(root, '.cellgraph', 'state.db'));
  const engine = new Engine({ store, storeConfig: { kind: 'filesystem', root: store.root }, state, executor: new InstantExecutor(), concurrency: 16 });
  const notebook = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] });
  const t0 = performance.now();
  const handle = await engine.startRun({ ir, notebookText: notebook, notebookPath: path.join(root, 'generated.ipynb'), workDir: root });
  const summary = await handle.done;
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  if (summary.status !== 'succeeded') throw new Error(`10k DAG run ${summary.status}`);
  gc();
  const liveHeap = process.memoryUsage().heapUsed - startHeap;
  await state.close();
  // Kept alive to here: the IR and summary are part of what the engine held.
  if (ir.tasks.length !== summary.tasks.length) throw new Error('summary lost tasks');
  return { tasks: n, ms, startRss, peakRss: peak, liveHeap };
}

main(process.argv[2]).then(
  (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
  (err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  }
);
