/**
 * `npm run bench`: the core's speed and memory figures, printed, never asserted (targets
 * live here, not in timed tests). Runs on the embedded default: local executor,
 * filesystem store, SQLite.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunSummary, TaskResult, WorkflowIR, attemptKey } from '@cellgraph/schema';
import { compileNotebook } from '@cellgraph/server/dist/compiler';
import { Engine } from '@cellgraph/server/dist/engine/engine';
import { LocalExecutor, defaultTaskEntry } from '@cellgraph/server/dist/executors/local/local-executor';
import { taskEntryArgs } from '@cellgraph/server/dist/executors/local/runner-snapshot';
import { SqliteStateStore } from '@cellgraph/server/dist/state/sqlite-state-store';
import { FilesystemStore } from '@cellgraph/server/dist/stores';
import { benchImages } from './images';
import { benchCompare } from './compare';
import { InstantExecutor, generatedIR } from './instant';
import { benchLargeDag } from './large-dag';
import { benchReplicas } from './replicas';
import { benchServer } from './server';
import { benchCompilePool } from './compile-pool';
import { benchIncremental } from './incremental';
import { benchKubernetes } from './kubernetes';
import { benchForeach, benchForeachKubernetes } from './foreach';
import { benchSqlite } from './sqlite';
import { cpuSeconds } from './cpu';
import { median } from './median';
import { chainNotebook, fanNotebook, typedNotebook } from './notebooks';

interface Figure {
  name: string;
  value: number;
  unit: string;
  target?: string;
}

const figures: Figure[] = [];
function report(name: string, value: number, unit: string, target?: string): void {
  figures.push({ name, value, unit, target });
  const shown = unit === 'ms' ? value.toFixed(1) : unit === 'MiB' ? value.toFixed(1) : value.toFixed(2);
  process.stdout.write(`  ${name.padEnd(72)} ${shown.padStart(10)} ${unit}${target ? `   (target ${target})` : ''}\n`);
}

function compile(text: string, name: string): WorkflowIR {
  const r = compileNotebook({ path: `${name}.ipynb`, text });
  if (!r.ok) throw new Error(`benchmark notebook ${name} does not compile: ${JSON.stringify(r.diagnostics.slice(0, 3))}`);
  return r.ir;
}

/** A fresh home (store + state) in a temporary directory, with a local engine over it (`warmPool: false`: a process started per attempt, as before issue 16). */
function localEngine(root: string, concurrency?: number, warmPool = true) {
  const store = new FilesystemStore(path.join(root, '.cellgraph'));
  const state = SqliteStateStore.open(path.join(root, '.cellgraph', 'state.db'));
  const engine = new Engine({
    store,
    storeConfig: { kind: 'filesystem', root: store.root },
    state,
    executor: new LocalExecutor({ store, warmPool }),
    concurrency
  });
  return { store, state, engine };
}

async function runOnce(engine: Engine, ir: WorkflowIR, text: string, workDir: string, noCache = false): Promise<{ summary: RunSummary; ms: number }> {
  const t0 = performance.now();
  const handle = await engine.startRun({ ir, notebookText: text, notebookPath: path.join(workDir, 'bench.ipynb'), workDir, noCache });
  const summary = await handle.done;
  const ms = performance.now() - t0;
  if (summary.status !== 'succeeded') throw new Error(`benchmark run ${summary.runId} ${summary.status}: ${JSON.stringify(summary.tasks.find((t) => t.error))}`);
  return { summary, ms };
}

async function benchCompile(root: string): Promise<void> {
  const text = typedNotebook(50);
  compile(typedNotebook(6), 'warmup');
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    compile(text, `typed50-${i}`);
    times.push(performance.now() - t0);
  }
  report('compile + type-check, 50-cell notebook, warm process (median of 3)', median(times), 'ms', '<= 3000 ms');
  const file = path.join(root, 'typed50.ipynb');
  fs.writeFileSync(file, text);
  report('`cellgraph validate`, 50-cell notebook, fresh process', cli(root, 'validate', file), 'ms', '<= 3000 ms');
}

/** The built CLI of the server package (benches time it as users run it). */
const CLI = require.resolve('@cellgraph/server/dist/cli/main.js');

/** Wall time of one `cellgraph` command in a fresh Node process, as users pay it. */
function cli(cwd: string, ...args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, XDG_STATE_HOME: path.join(cwd, 'xdg') } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`cellgraph ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

async function benchChain(root: string): Promise<void> {
  await chainRun(path.join(root, 'warm'), true);
  await chainRun(path.join(root, 'cold'), false);
  await engineChain(path.join(root, 'engine'));
}

/** The engine's own share of a chain's per-task time: the same 50-task chain, every attempt done at once in process. */
async function engineChain(root: string): Promise<void> {
  const n = 50;
  const store = new FilesystemStore(path.join(root, '.cellgraph'));
  const state = SqliteStateStore.open(path.join(root, '.cellgraph', 'state.db'));
  const engine = new Engine({ store, storeConfig: { kind: 'filesystem', root: store.root }, state, executor: new InstantExecutor(), concurrency: 2 });
  const notebook = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] });
  const ir = generatedIR(n, 1);
  const t0 = performance.now();
  const summary = await (await engine.startRun({ ir, notebookText: notebook, notebookPath: path.join(root, 'chain.ipynb'), workDir: root, noCache: true })).done;
  const ms = performance.now() - t0;
  if (summary.status !== 'succeeded') throw new Error(`engine chain ${summary.status}`);
  report(`chain of ${n}, engine alone (instant executor: state writes, events, scheduling): per task`, ms / n, 'ms');
  await state.close();
}

async function chainRun(root: string, warmPool: boolean): Promise<void> {
  const n = 50;
  const text = chainNotebook(n);
  const ir = compile(text, 'chain');
  fs.mkdirSync(root, { recursive: true });
  const { engine, store, state } = localEngine(root, 2, warmPool);
  const how = warmPool ? 'warm pool' : 'cold process per attempt (before)';
  const cpu0 = cpuSeconds();
  const { summary, ms } = await runOnce(engine, ir, text, root, true);
  // Per task: wall time from its upstream's end to its own end, minus its own time inside the runner.
  const overheads: number[] = [];
  let previousEnd: number | undefined;
  const records = await state.getTaskRuns(summary.runId);
  let ownTotal = 0;
  const ownTimes: number[] = [];
  for (const t of records) {
    const result = TaskResult.parse(JSON.parse((await store.getFile(attemptKey(summary.runId, t.task, 1, 'result.json'))).toString()));
    const end = Date.parse(t.finishedAt ?? '');
    const start = previousEnd ?? Date.parse(t.startedAt ?? '');
    overheads.push(end - start - result.durationMs);
    ownTotal += result.durationMs;
    ownTimes.push(result.durationMs);
    previousEnd = end;
  }
  report(`chain of ${n} trivial tasks, ${how}: wall time`, ms, 'ms');
  report(`chain, ${how}: per-task overhead, median (wall - task time)`, median(overheads), 'ms', warmPool ? '<= 30 ms' : undefined);
  report(`chain, ${how}: per task, median (wall incl. task time)`, median(overheads.map((o, i) => o + ownTimes[i])), 'ms', warmPool ? '<= 30 ms' : undefined);
  report(`chain, ${how}: per-task overhead, mean incl. run set-up`, (ms - ownTotal) / n, 'ms');
  report(`chain, ${how}: CPU per task (engine + task processes, incl. warm-up)`, ((cpuSeconds() - cpu0) * 1000) / n, 'ms');
  await state.close();
}

/**
 * The CPU floor of a process per attempt: one task process's start-up (to the point where
 * it would take an assignment) against a bare `node -e 0`. With 2 cores, 60 tasks/s allows
 * ~33 ms of CPU per task in all (engine + its process).
 */
function benchProcessStart(): void {
  const entry = defaultTaskEntry();
  const cpuOf = (args: string[], n = 20): number => {
    const cpu0 = cpuSeconds();
    // With no invocation in its environment the entry says so and exits 2: start-up, nothing else.
    for (let i = 0; i < n; i++) spawnSync(process.execPath, args, { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
    return ((cpuSeconds() - cpu0) * 1000) / n;
  };
  report('task process start-up CPU: bare `node -e 0` (the floor of a process per attempt)', cpuOf(['-e', '0']), 'ms');
  report('task process start-up CPU: `node task-entry.js` (modules loaded from disk)', cpuOf([entry]), 'ms');
  const snapshot = taskEntryArgs(entry);
  if (snapshot[0] === '--snapshot-blob') report('task process start-up CPU: from the start-up snapshot (warm processes)', cpuOf(snapshot), 'ms');
}

async function benchFan(root: string): Promise<void> {
  benchProcessStart();
  const width = 200;
  const text = fanNotebook(width);
  const ir = compile(text, 'fan');
  const { engine, state } = localEngine(root, 2);
  const cpu0 = cpuSeconds();
  const { ms } = await runOnce(engine, ir, text, root, true);
  const cpuMs = ((cpuSeconds() - cpu0) * 1000) / (width + 2);
  report(`fan-out/fan-in of ${width} tasks (+2): wall time, concurrency 2, warm pool`, ms, 'ms');
  report('fan-out/fan-in: throughput', ((width + 2) / ms) * 1000, 'tasks/s', '>= 60 tasks/s');
  report('fan-out/fan-in: CPU per task (engine + task processes)', cpuMs, 'ms');
  report(`fan-out/fan-in: throughput the CPU allows on ${os.cpus().length} idle cores (cores / CPU per task)`, (os.cpus().length * 1000) / cpuMs, 'tasks/s');
  await state.close();
}

async function benchCachedRerun(root: string): Promise<void> {
  const n = 100;
  const text = fanNotebook(n - 2);
  const ir = compile(text, 'cached100');
  const { engine, state } = localEngine(root);
  await runOnce(engine, ir, text, root);
  const { summary, ms } = await runOnce(engine, ir, text, root);
  const cached = summary.tasks.filter((t) => t.cached).length;
  if (cached !== n) throw new Error(`expected ${n} cached tasks, got ${cached}`);
  report(`fully cached re-run of a ${n}-task notebook (engine)`, ms, 'ms', '<= 1000 ms');
  await state.close();
  // The same through the CLI in a fresh process: start-up, compile cache, engine, exit.
  const cliDir = path.join(root, 'cli');
  fs.mkdirSync(cliDir);
  fs.writeFileSync(path.join(cliDir, 'cached100.ipynb'), text);
  cli(cliDir, 'run', 'cached100.ipynb');
  report(`fully cached re-run of a ${n}-task notebook (\`cellgraph run\`)`, cli(cliDir, 'run', 'cached100.ipynb'), 'ms', '<= 1000 ms');
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cellgraph-bench-'));
  process.stdout.write(`cellgraph bench — ${os.cpus().length} cores, node ${process.version}, scratch ${root}\n`);
  try {
    const sections: [string, (dir: string) => Promise<void>][] = [
      ['compile', benchCompile],
      ['chain', benchChain],
      ['fan', benchFan],
      ['cached', benchCachedRerun],
      ['large-dag', (dir: string) => benchLargeDag(dir, report)],
      ['compare', (dir: string) => benchCompare(dir, report)],
      ['sqlite', (dir: string) => benchSqlite(dir, report)],
      ['images', (dir: string) => benchImages(dir, report)],
      ['server', (dir: string) => benchServer(dir, report)],
      ['compile-pool', (dir: string) => benchCompilePool(dir, report)],
      ['incremental', (dir: string) => benchIncremental(dir, report)],
      ['kubernetes', (dir: string) => benchKubernetes(dir, report)],
      ['replicas', (dir: string) => benchReplicas(dir, report)],
      ['foreach', (dir: string) => benchForeach(dir, report)],
      ['foreach-kubernetes', (dir: string) => benchForeachKubernetes(dir, report)]
    ];
    const only = process.argv.slice(2);
    for (const [name, fn] of sections) {
      if (only.length > 0 && !only.includes(name)) continue;
      process.stdout.write(`${name}:\n`);
      const dir = path.join(root, name);
      fs.mkdirSync(dir, { recursive: true });
      await fn(dir);
    }
    if (process.env.CELLGRAPH_BENCH_JSON) fs.writeFileSync(process.env.CELLGRAPH_BENCH_JSON, JSON.stringify(figures, null, 1));
  } finally {
    if (!process.env.CELLGRAPH_BENCH_KEEP) fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
