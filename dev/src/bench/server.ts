/**
 * Server figures (issue 3's targets): the real `cellgraph server` process under 100
 * concurrent runs (throughput, API latency while loaded), recovery after SIGKILL, and the
 * scheduler's fire latency on the system clock. Printed, never asserted.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunDetail, Schedule, WorkflowIR } from '@cellgraph/schema';
import { compileNotebook } from '@cellgraph/server/dist/compiler';
import { Engine, RunHandle } from '@cellgraph/server/dist/engine/engine';
import { LocalExecutor } from '@cellgraph/server/dist/executors/local/local-executor';
import { InMemoryScheduleRepository, RunPort, Scheduler } from '@cellgraph/server/dist/scheduler';
import { SqliteStateStore } from '@cellgraph/server/dist/state/sqlite-state-store';
import { FilesystemStore } from '@cellgraph/server/dist/stores';
import { chainNotebook, fanNotebook } from './notebooks';

export type Report = (name: string, value: number, unit: string, target?: string) => void;

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The built CLI of the server package (benches time it as users run it). */
const CLI = require.resolve('@cellgraph/server/dist/cli/main.js');

/** A `cellgraph server` child process on 127.0.0.1 and the few calls the bench makes. */
export interface BenchServer {
  url: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the `listening:` line. */
  startMs: number;
  stderr(): string;
  api(pathname: string, init?: { method?: string; json?: unknown }): Promise<Response>;
  exited: Promise<void>;
}

/** A project directory whose notebooks resolve this repository's packages. */
export function project(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Starts the server (loopback, free port, fixed token) and waits until it listens. */
export async function startServer(dir: string, token: string, args: string[] = [], env: Record<string, string> = {}): Promise<BenchServer> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'server', '--host', '127.0.0.1', '--port', '0', '--workdir', dir, ...args], {
    cwd: dir,
    env: { ...process.env, CELLGRAPH_TOKEN: token, CELLGRAPH_HOME: '', CELLGRAPH_PORT: '', CELLGRAPH_HOST: '', XDG_STATE_HOME: path.join(dir, 'xdg'), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      const found = /^listening: (\S+)$/m.exec(stdout)?.[1];
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening:\n${stderr}`));
    });
  });
  const startMs = performance.now() - t0;
  const api = (pathname: string, init: { method?: string; json?: unknown } = {}) =>
    fetch(`${url}${pathname}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.json !== undefined ? JSON.stringify(init.json) : undefined
    });
  return { url, child, startMs, stderr: () => stderr, api, exited };
}

/** Stops a server by its PID: SIGTERM (drain), SIGKILL if it has not exited after 20 s. */
export async function stopServer(s: BenchServer): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const killer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
  await s.exited;
  clearTimeout(killer);
}

/** The p-th percentile (nearest rank) of `xs`; NaN for none. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const terminal = (status: string) => status !== 'queued' && status !== 'running';

export async function runDetail(res: Response): Promise<RunDetail> {
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text}`);
  return RunDetail.parse(JSON.parse(text));
}

/** Waits for a server's run to end, polling every 100 ms. */
export async function waitForRun(s: BenchServer, id: string, timeoutMs: number): Promise<RunDetail> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await runDetail(await s.api(`/api/v1/runs/${id}`));
    if (terminal(r.status)) return r;
    if (Date.now() > end) throw new Error(`run ${id} still ${r.status} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * 100 runs of a 10-task fan (source, 8 parallel tasks, join) submitted at once as notebook
 * content with `noCache` (every task really runs: 1,000 task processes), while four
 * clients poll GET /runs/:id of unfinished runs every 50 ms. One warm-up run first, so
 * the figures are the steady state (compile cached), not the first type-check.
 */
async function benchLoad(root: string, report: Report): Promise<void> {
  const runsN = 100;
  const dir = project(path.join(root, 'load'));
  const token = randomBytes(24).toString('hex');
  const s = await startServer(dir, token);
  try {
    const notebook = JSON.parse(fanNotebook(8)) as unknown;
    const tasksPerRun = 10;
    const submit = () => s.api('/api/v1/runs', { method: 'POST', json: { notebook, notebookName: 'fan10.ipynb', noCache: true } });
    const warm = await runDetail(await submit());
    if (warm.tasks.length !== tasksPerRun) throw new Error(`expected ${tasksPerRun} tasks, got ${warm.tasks.length}`);
    if ((await waitForRun(s, warm.runId, 60_000)).status !== 'succeeded') throw new Error(`warm-up run ${warm.runId} did not succeed`);

    let errors = 0;
    const submitMs: number[] = [];
    const getMs: number[] = [];
    const unfinished = new Set<string>();
    const finished = new Map<string, RunDetail>();
    const t0 = Date.now();
    const ids = await Promise.all(
      Array.from({ length: runsN }, async () => {
        const t = performance.now();
        const res = await submit();
        submitMs.push(performance.now() - t);
        if (res.status !== 201) {
          errors++;
          process.stderr.write(`submit answered ${res.status}: ${await res.text()}\n`);
          return undefined;
        }
        const r = await runDetail(res);
        unfinished.add(r.runId);
        return r.runId;
      })
    );
    const submittedMs = Date.now() - t0;
    const poller = async (k: number) => {
      let i = k;
      while (unfinished.size > 0) {
        const list = [...unfinished];
        const id = list[i++ % list.length];
        const t = performance.now();
        const res = await s.api(`/api/v1/runs/${id}`);
        const text = await res.text();
        getMs.push(performance.now() - t);
        if (!res.ok) {
          errors++;
          process.stderr.write(`GET /runs/${id} answered ${res.status}: ${text}\n`);
        } else {
          const r = RunDetail.parse(JSON.parse(text));
          if (terminal(r.status) && unfinished.delete(id)) finished.set(id, r);
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    await Promise.all([0, 1, 2, 3].map(poller));
    const failed = [...finished.values()].filter((r) => r.status !== 'succeeded');
    errors += failed.length + ids.filter((id) => id === undefined).length;
    for (const r of failed.slice(0, 3)) process.stderr.write(`run ${r.runId} ${r.status}: ${r.error ?? JSON.stringify(r.tasks.find((t) => t.error))}\n`);
    const lastFinish = Math.max(...[...finished.values()].map((r) => Date.parse(r.finishedAt ?? '')));
    const wallMs = lastFinish - t0;
    const tasks = [...finished.values()].reduce((n, r) => n + r.tasks.filter((t) => t.status === 'succeeded').length, 0);
    report(`${runsN} concurrent runs x ${tasksPerRun} tasks (no cache), server concurrency 2: errors`, errors, 'count', '0');
    report('  wall time, first submit -> last run finished', wallMs, 'ms');
    report('  throughput (tasks succeeded / wall time)', (tasks / wallMs) * 1000, 'tasks/s');
    report(`  POST /runs (content, compile cached): all ${runsN} answered after`, submittedMs, 'ms');
    report('  POST /runs latency p50', percentile(submitMs, 50), 'ms');
    report('  POST /runs latency p99', percentile(submitMs, 99), 'ms');
    report(`  GET /runs/:id latency under load p50 (${getMs.length} requests)`, percentile(getMs, 50), 'ms');
    report('  GET /runs/:id latency under load p99', percentile(getMs, 99), 'ms');
  } finally {
    await stopServer(s);
  }
}

/** A chain of `n` tasks, each sleeping `ms` without burning CPU. */
export function sleepyChain(n: number, ms: number): unknown {
  const cells = [];
  for (let i = 0; i < n; i++) {
    const value = i === 0 ? '1' : `s${i - 1} + 1`;
    cells.push({
      cell_type: 'code',
      source: `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${ms});\nconst s${i}: number = ${value};`,
      metadata: { cellgraph: { task: `s${i}` } },
      outputs: [],
      execution_count: null
    });
  }
  return { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } }, cells };
}

/**
 * Recovery: 8 runs of a 3-task chain (1 s per task, server concurrency 4) are killed with
 * SIGKILL once some tasks have succeeded and others are running; the restarted server
 * resumes them before it listens and prints how long resuming took.
 */
async function benchRecovery(root: string, report: Report): Promise<void> {
  const runsN = 8;
  const dir = project(path.join(root, 'recovery'));
  const token = randomBytes(24).toString('hex');
  const args = ['--concurrency', '4'];
  const s1 = await startServer(dir, token, args);
  const ids: string[] = [];
  try {
    const notebook = sleepyChain(3, 1000);
    for (let i = 0; i < runsN; i++) {
      ids.push((await runDetail(await s1.api('/api/v1/runs', { method: 'POST', json: { notebook, notebookName: 'sleepy.ipynb', noCache: true } }))).runId);
    }
    // Kill once at least 4 tasks succeeded (some runs part-way, others not started).
    const end = Date.now() + 60_000;
    for (;;) {
      const details = await Promise.all(ids.map(async (id) => runDetail(await s1.api(`/api/v1/runs/${id}`))));
      const done = details.reduce((n, r) => n + r.tasks.filter((t) => t.status === 'succeeded').length, 0);
      if (done >= 4) break;
      if (Date.now() > end) throw new Error('recovery bench: tasks did not progress');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    s1.child.kill('SIGKILL');
    await s1.exited;
  }
  const t0 = performance.now();
  const s2 = await startServer(dir, token, args);
  try {
    // stderr's `resumed …` line is written just after stdout's `listening:`; the pipes race.
    const pattern = /resumed (\d+) unfinished run\(s\) in (\d+) ms/;
    for (let i = 0; i < 50 && !pattern.test(s2.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    const resumed = pattern.exec(s2.stderr());
    if (resumed === null) throw new Error(`restarted server did not report resuming runs:\n${s2.stderr()}`);
    const results = await Promise.all(ids.map((id) => waitForRun(s2, id, 120_000)));
    const doneMs = performance.now() - t0;
    const bad = results.filter((r) => r.status !== 'succeeded');
    if (bad.length > 0) throw new Error(`recovery bench: ${bad.length} run(s) did not succeed after the restart`);
    report(`recovery after SIGKILL: runs resumed (of ${runsN} submitted)`, Number(resumed[1]), 'count');
    report('  resume at boot (server\'s own "resumed N run(s) in X ms")', Number(resumed[2]), 'ms');
    report('  restart -> listening with runs resumed (fresh process)', s2.startMs, 'ms');
    report('  restart -> every resumed run finished (work left: ~1 s tasks x 4 wide)', doneMs, 'ms');
  } finally {
    await stopServer(s2);
  }
}

/**
 * Fire latency on the system clock, over two minute boundaries: first one schedule alone
 * (the timer path: how late the single exact timer wakes, plus one launch), then
 * `burst` schedules due at the same second (every launch interleaves with the others, so
 * the last is recorded when all are). Cron `* * * * *`, UTC. The RunPort is a real Engine
 * (SQLite state, filesystem store, local executor) starting a 1-task run per fire; latency
 * = scheduled second -> engine.startRun resolved (run recorded), as the Scheduler reports
 * it through onFireLatency. Waits for up to two minute boundaries.
 */
async function benchScheduler(root: string, report: Report): Promise<void> {
  const burst = 50;
  const dir = project(path.join(root, 'scheduler'));
  const text = chainNotebook(1);
  const compiled = compileNotebook({ path: path.join(dir, 'tick.ipynb'), text });
  if (!compiled.ok) throw new Error('scheduler bench notebook does not compile');
  const ir: WorkflowIR = compiled.ir;
  const store = new FilesystemStore(path.join(dir, '.cellgraph'));
  const state = SqliteStateStore.open(path.join(dir, '.cellgraph', 'state.db'));
  const engine = new Engine({ store, storeConfig: { kind: 'filesystem', root: store.root }, state, executor: new LocalExecutor({ store }) });
  const handles: RunHandle[] = [];
  /** Scheduled second -> RunPort.launch called (timer wake-up + dedupe + policy). */
  let called: number[] = [];
  /** Scheduled second -> run recorded (launch resolved), from onFireLatency. */
  let recorded: number[] = [];
  const runs: RunPort = {
    async launch(_schedule: Schedule, fireTime: Date, runId: string) {
      called.push(Date.now() - fireTime.getTime());
      handles.push(await engine.startRun({ ir, notebookText: text, notebookPath: path.join(dir, 'tick.ipynb'), workDir: dir, runId }));
    },
    runExists: async (runId) => handles.some((h) => h.runId === runId),
    activeRuns: async () => [],
    cancelRun: async () => undefined
  };
  const scheduler = new Scheduler({ repository: new InMemoryScheduleRepository(), runs, onFireLatency: (m) => recorded.push(m.latencyMs) });
  const msToBoundary = () => 60_000 - (Date.now() % 60_000);
  const round = async (n: number, prefix: string) => {
    called = [];
    recorded = [];
    // Too close to a boundary to create every schedule before it: wait for the next one.
    if (msToBoundary() < 3000) await new Promise((r) => setTimeout(r, msToBoundary() + 100));
    const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    for (const id of ids) await scheduler.create({ id, workflow: ir.name, version: ir.version, cron: '* * * * *', concurrencyPolicy: 'Allow' });
    await new Promise((r) => setTimeout(r, msToBoundary() + 100));
    const end = Date.now() + 30_000;
    while (recorded.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await scheduler.idle();
    for (const id of ids) await scheduler.delete(id);
    if (recorded.length !== n) throw new Error(`scheduler bench: ${recorded.length} of ${n} fires launched`);
    return { called, recorded };
  };
  try {
    await scheduler.start();
    const one = await round(1, 'solo');
    report('scheduler, 1 schedule: scheduled second -> RunPort.launch called (timer wake-up)', one.called[0], 'ms');
    report('  1 schedule: scheduled second -> run recorded (Engine + SQLite)', one.recorded[0], 'ms', '<= 1000 ms');
    const many = await round(burst, 'burst');
    report(`scheduler, ${burst} schedules due at the same second: launch called, max`, Math.max(...many.called), 'ms');
    report(`  ${burst} at once: scheduled second -> run recorded p50`, percentile(many.recorded, 50), 'ms');
    report(`  ${burst} at once: scheduled second -> run recorded p99`, percentile(many.recorded, 99), 'ms', '<= 1000 ms');
  } finally {
    await scheduler.stop();
    await Promise.all(handles.map((h) => h.done.catch(() => undefined)));
    await state.close();
  }
}

/** The `server` bench section: load, recovery, scheduler. */
export async function benchServer(root: string, report: Report): Promise<void> {
  await benchLoad(root, report);
  await benchRecovery(root, report);
  await benchScheduler(root, report);
}
