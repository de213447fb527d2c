/**
 * One driver's run of the state store's workload, in its own process (so the drivers share
 * no caches or heap): `node sqlite-workload.js <better-sqlite3|node:sqlite> <file>`. Prints
 * its timings as one JSON line. The store's own code runs; only the driver differs.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RunRecord, TaskRunRecord } from '@cellgraph/schema';
import { substituteBetterSqlite3 } from './node-sqlite-driver';

/** What the engine writes and reads for a run of `TASKS` tasks (engine.ts, one call each). */
const RUNS = 200;
const TASKS = 20;
const hash = (c: string) => `sha256:${c.repeat(64)}`;

export interface WorkloadTimings {
  driver: string;
  /** createRun + per task: cache lookup, running, events, cache entry, succeeded; run finished. */
  writeMs: number;
  /** Per run: getRun, getTaskRuns, listEvents; plus listRuns pages. */
  readMs: number;
  /** Store calls made in each phase. */
  writes: number;
  reads: number;
  openMs: number;
}

async function main(): Promise<void> {
  const [driver, file] = process.argv.slice(2);
  if (driver === 'node:sqlite') substituteBetterSqlite3();
  else if (driver !== 'better-sqlite3') throw new Error(`driver: better-sqlite3 or node:sqlite, not ${driver}`);
  // Loaded only now: with node:sqlite the substitute must be in place first.
  const { SqliteStateStore } = await import('@cellgraph/server/dist/state/sqlite-state-store');
  let t = performance.now();
  const state = SqliteStateStore.open(file);
  const openMs = performance.now() - t;
  await state.saveWorkflow({ version: hash('a'), name: 'bench', notebookPath: '/bench.ipynb' });
  let writes = 0;
  let reads = 0;
  const time = () => new Date().toISOString();
  t = performance.now();
  for (let r = 0; r < RUNS; r++) {
    const runId = `run-${r}`;
    const run: RunRecord = { id: runId, workflow: 'bench', version: hash('a'), notebookPath: '/bench.ipynb', params: { r }, status: 'queued', executor: 'local', createdAt: time() };
    const tasks: TaskRunRecord[] = Array.from({ length: TASKS }, (_, i) => ({ runId, task: `t${i}`, status: 'pending', attempts: 0, cached: false, outputs: [], metrics: {} }));
    await state.createRun(run, tasks);
    await state.appendEvent({ runId, kind: 'run', status: 'queued', time: time() });
    await state.updateRun(runId, { status: 'running', startedAt: time() });
    writes += 3;
    for (const task of tasks) {
      const cacheKey = `sha256:${createHash('sha256').update(`${runId}/${task.task}`).digest('hex')}`;
      await state.getCacheEntry(cacheKey);
      await state.updateTaskRun(runId, task.task, { status: 'running', attempts: 1, startedAt: time(), cacheKey });
      await state.appendEvent({ runId, kind: 'task', status: 'running', task: task.task, attempt: 1, time: time() });
      const outputs = [{ name: 'x', type: 'number', hash: hash('b'), size: 8 }];
      await state.putCacheEntry({ key: cacheKey, task: task.task, outputs, metrics: { m: 1 }, runId, attempt: 1, createdAt: time() });
      await state.updateTaskRun(runId, task.task, { status: 'succeeded', finishedAt: time(), durationMs: 12, outputs, metrics: { m: 1 } });
      await state.appendEvent({ runId, kind: 'task', status: 'succeeded', task: task.task, attempt: 1, time: time() });
      writes += 6;
    }
    await state.updateRun(runId, { status: 'succeeded', finishedAt: time() });
    await state.appendEvent({ runId, kind: 'run', status: 'succeeded', time: time() });
    writes += 2;
  }
  const writeMs = performance.now() - t;
  t = performance.now();
  for (let r = 0; r < RUNS; r++) {
    await state.getRun(`run-${r}`);
    await state.getTaskRuns(`run-${r}`);
    await state.listEvents(`run-${r}`);
    reads += 3;
    if (r % 10 === 0) {
      await state.listRuns({ limit: 50 });
      reads += 1;
    }
  }
  const readMs = performance.now() - t;
  await state.close();
  const timings: WorkloadTimings = { driver, writeMs, readMs, writes, reads, openMs };
  process.stdout.write(`${JSON.stringify(timings)}\n`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  });
}
