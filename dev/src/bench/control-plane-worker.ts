/**
 * One "replica" of the control-plane bench, as its own process: an Engine on PostgreSQL
 * with the instant executor (no task processes), so what is measured is the engine and the
 * database: scheduling, task records, events. Usage: node control-plane-worker.js
 * <database-url> <runs> <tasks-per-run> <dir>; prints {"transitions":N,"ms":M} on stdout.
 */
import * as path from 'node:path';
import { Engine } from '@cellgraph/server/dist/engine/engine';
import { PostgresStateStore } from '@cellgraph/server/dist/state/postgres-state-store';
import { FilesystemStore } from '@cellgraph/server/dist/stores';
import { InstantExecutor, generatedIR } from './instant';

async function main(): Promise<void> {
  const [url, runsArg, tasksArg, dir] = process.argv.slice(2);
  const runs = Number(runsArg);
  const ir = generatedIR(Number(tasksArg), 10);
  const store = new FilesystemStore(path.join(dir, '.cellgraph'));
  const state = await PostgresStateStore.open(url);
  const engine = new Engine({ store, storeConfig: { kind: 'filesystem', root: store.root }, state, executor: new InstantExecutor(), concurrency: 16 });
  let transitions = 0;
  engine.onEvent((e) => (e.kind === 'task' ? transitions++ : undefined));
  const notebook = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] });
  const t0 = performance.now();
  // Four runs at a time, as a replica with several runs in flight.
  let next = 0;
  const lane = async () => {
    while (next < runs) {
      next++;
      const handle = await engine.startRun({ ir, notebookText: notebook, notebookPath: path.join(dir, 'generated.ipynb'), workDir: dir });
      const summary = await handle.done;
      if (summary.status !== 'succeeded') throw new Error(`run ${summary.runId} ${summary.status}`);
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  const ms = performance.now() - t0;
  await state.close();
  process.stdout.write(`${JSON.stringify({ transitions, ms })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`control-plane worker failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
