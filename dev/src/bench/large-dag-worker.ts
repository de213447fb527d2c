/**
 * The 10,000-task DAG through the engine, in a process of its own (started by
 * large-dag.ts with --expose-gc), so its memory is the engine's: no compiler or other
 * bench loaded. Prints one JSON line of figures.
 *
 * `handed` (default): the IR is built in the process and handed to the engine as the
 * compiler or the compile pool hands it over (already validated). `loaded VERSION`: the IR
 * a `handed` run filed under the same root is read back and validated with the zod schema
 * (loadWorkflow, what `cellgraph run` of an unchanged notebook does), then run again.
 */
import * as path from 'node:path';
import { Engine } from '@cellgraph/server/dist/engine/engine';
import { loadWorkflow } from '@cellgraph/server/dist/engine/workflow-files';
import { SqliteStateStore } from '@cellgraph/server/dist/state/sqlite-state-store';
import { FilesystemStore } from '@cellgraph/server/dist/stores';
import { InstantExecutor, generatedIR } from './instant';

/** What the worker measured. */
export interface LargeDagFigures {
  tasks: number;
  ms: number;
  /** RSS with the modules loaded, before the IR exists. */
  startRss: number;
  /** RSS once the IR is in memory (read and validated, in `loaded` mode), before the run. */
  irRss: number;
  peakRss: number;
  /** Live heap after a full GC at the end of the run, IR and records included, minus the same before the IR. */
  liveHeap: number;
  /** The workflow version (a `loaded` run reads it back). */
  version: string;
}

async function main(root: string, mode: string, version: string | undefined): Promise<LargeDagFigures> {
  const n = 10_000;
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const store = new FilesystemStore(path.join(root, '.cellgraph'));
  gc();
  const startRss = process.memoryUsage().rss;
  const startHeap = process.memoryUsage().heapUsed;
  let peak = startRss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  if (mode === 'loaded' && version === undefined) throw new Error('loaded: give the workflow version a handed run printed');
  const ir = mode === 'loaded' && version !== undefined ? await loadWorkflow(store, version) : generatedIR(n, 100);
  const irRss = process.memoryUsage().rss;
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
  return { tasks: ir.tasks.length, ms, startRss, irRss, peakRss: peak, liveHeap, version: ir.version };
}

main(process.argv[2], process.argv[3] ?? 'handed', process.argv[4]).then(
  (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
  (err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  }
);
