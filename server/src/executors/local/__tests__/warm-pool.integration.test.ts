/**
 * The local executor's warm pool with real processes running the built task entry: one
 * attempt per pre-started process, never reused; crashes, cancellation and timeouts as
 * with a cold process; the pool ends with the server. Requires `tsc -b` first.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type StoreConfig, type TaskInvocation, paramsModuleKey, taskModuleKey } from '@cellgraph/schema';
import { waitFor } from '@cellgraph/dev/test-support/wait-for';
import { FilesystemStore } from '../../../stores';
import type { AttemptOutcome } from '../../executor';
import { LocalExecutor, defaultTaskEntry } from '../local-executor';
import { stopLostAttempts } from '../lost-attempts';
import { poolMarkersDir } from '../warm-pool';

jest.setTimeout(60_000);

const VERSION = `sha256:${'c'.repeat(64)}`;
let dir: string;
let store: FilesystemStore;
let storeConfig: StoreConfig;
let executor: LocalExecutor;
let attempt = 0;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-warm-'));
  store = new FilesystemStore(path.join(dir, '.cellgraph'));
  storeConfig = { kind: 'filesystem', root: store.root };
  executor = new LocalExecutor({ store, env: { PATH: process.env.PATH, HOME: os.homedir(), CELLGRAPH_TOKEN: 'server-secret' } });
});

afterEach(() => {
  executor.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Warms the pool and waits until its processes have loaded the runtime. */
async function warmed(slots = 2): Promise<number[]> {
  executor.warm(storeConfig, slots);
  const pids = await waitFor(async () => (executor.warmPids.length === slots ? executor.warmPids : undefined), 10_000, 'warm processes');
  await new Promise((r) => setTimeout(r, 1000));
  return pids;
}

/** Starts one attempt of a task whose module body is `body` (the generated module's shape). */
async function launch(task: string, body: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}) {
  await store.putFile(taskModuleKey(VERSION, task), `module.exports = async function (__cg) { ${body} };`);
  attempt += 1;
  const invocation: TaskInvocation = { runId: 'run-1', task, attempt, workflowVersion: VERSION, workDir: dir, inputs: {}, outputTypes: {}, params: {}, store: storeConfig };
  const env = options.env ?? {};
  return executor.launch(
    { invocation, env, resources: {}, workflow: 'w', timeoutMs: options.timeoutMs, policy: { retries: 0, cache: false, resources: {}, env, secrets: [] } },
    () => undefined
  );
}

const printed = (outcome: AttemptOutcome, name: string) => outcome.log.match(new RegExp(`${name}=(\\S*)`))?.[1];

it('runs each attempt in a process started before it, and never reuses one', async () => {
  const ready = await warmed();
  const pids: number[] = [];
  for (let i = 0; i < 3; i++) {
    const outcome = await (await launch('t', 'console.log("pid=" + process.pid); return {};')).done;
    expect(outcome.kind).toBe('reported');
    pids.push(Number(printed(outcome, 'pid')));
  }
  expect(ready).toContain(pids[0]);
  expect(new Set(pids).size).toBe(3);
  for (const pid of pids) expect(alive(pid)).toBe(false);
  // Refilled while attempts ran: the next attempt starts warm too.
  await waitFor(async () => (executor.warmPids.length === 2 ? true : undefined), 10_000, 'refill');
});

it("gives a warm process the task's own env and work dir, and nothing of the server's", async () => {
  await warmed();
  const outcome = await (
    await launch('env', 'console.log("mode=" + process.env.MODE, "token=" + (process.env.CELLGRAPH_TOKEN ?? "none"), "cwd=" + process.cwd(), "pool=" + (process.env.CELLGRAPH_POOL ?? "none")); return {};', {
      env: { MODE: 'fast' }
    })
  ).done;
  expect(outcome.kind).toBe('reported');
  expect([printed(outcome, 'mode'), printed(outcome, 'token'), printed(outcome, 'cwd'), printed(outcome, 'pool')]).toEqual(['fast', 'none', fs.realpathSync(dir), 'none']);
});

it("runs the task's exit handlers after its result is filed, into its log (a warm process ends itself without Node's teardown)", async () => {
  await warmed(1);
  const outcome = await (await launch('bye', 'process.on("exit", (code) => console.log("exit-handler=" + code)); return {};')).done;
  expect(outcome.kind).toBe('reported');
  expect(printed(outcome, 'exit-handler')).toBe('0');
});

it('keeps the pool working after a task crashes its process', async () => {
  await warmed();
  const crashed = await (await launch('crash', 'process.kill(process.pid, "SIGKILL"); return {};')).done;
  expect(crashed.kind).toBe('lost');
  expect(crashed.kind === 'lost' && crashed.error.message).toContain('killed by SIGKILL');
  const ready = await warmed();
  const next = await (await launch('after', 'console.log("pid=" + process.pid); return {};')).done;
  expect(next.kind).toBe('reported');
  expect(ready).toContain(Number(printed(next, 'pid')));
});

it('cancels and times out a task running in a warm process, with everything it started', async () => {
  await warmed();
  const sleeper = 'const c = require("node:child_process").spawn("sleep", ["60"]); console.log("pid=" + process.pid, "child=" + c.pid); await new Promise((r) => setTimeout(r, 60000)); return {};';
  let log = '';
  await store.putFile(taskModuleKey(VERSION, 'sleep'), `module.exports = async function (__cg) { ${sleeper} };`);
  const invocation: TaskInvocation = { runId: 'run-1', task: 'sleep', attempt: 99, workflowVersion: VERSION, workDir: dir, inputs: {}, outputTypes: {}, params: {}, store: storeConfig };
  const handle = executor.launch({ invocation, env: {}, resources: {}, workflow: 'w', policy: { retries: 0, cache: false, resources: {}, env: {}, secrets: [] } }, (_s, text) => (log += text));
  const pid = await waitFor(async () => log.match(/pid=(\d+)/)?.[1], 10_000, 'task started');
  const child = Number(log.match(/child=(\d+)/)?.[1]);
  const t0 = Date.now();
  handle.cancel();
  const outcome = await handle.done;
  expect(Date.now() - t0).toBeLessThan(5000);
  expect(outcome.kind === 'lost' && outcome.error.kind).toBe('cancelled');
  expect(alive(Number(pid))).toBe(false);
  expect(alive(child)).toBe(false);
  expect(fs.existsSync(path.join(poolMarkersDir(), `${pid}.json`))).toBe(false);

  const timedOut = await (await launch('slow', 'await new Promise((r) => setTimeout(r, 60000)); return {};', { timeoutMs: 300 })).done;
  expect(timedOut.kind === 'lost' && timedOut.error.kind).toBe('timeout');
});

it("lets a restarted server's orphan scan find a warm process by its marker", async () => {
  await warmed();
  let log = '';
  await store.putFile(taskModuleKey(VERSION, 'busy'), 'module.exports = async function (__cg) { console.log("pid=" + process.pid); for (;;) {} };');
  const invocation: TaskInvocation = { runId: 'run-orphan', task: 'busy', attempt: 1, workflowVersion: VERSION, workDir: dir, inputs: {}, outputTypes: {}, params: {}, store: storeConfig };
  const handle = executor.launch({ invocation, env: {}, resources: {}, workflow: 'w', policy: { retries: 0, cache: false, resources: {}, env: {}, secrets: [] } }, (_s, text) => (log += text));
  const pid = Number(await waitFor(async () => log.match(/pid=(\d+)/)?.[1], 10_000, 'task started'));
  expect(await stopLostAttempts('run-orphan', 'busy')).toEqual([pid]);
  expect((await handle.done).kind).toBe('lost');
  expect(alive(pid)).toBe(false);
});

it('checks parameters in a warm process', async () => {
  const ready = await warmed();
  await store.putFile(paramsModuleKey(VERSION), 'module.exports = async function (__cg) { const n = __cg.param("n", 3); if (n > 10) { const e = new Error("n must be at most 10"); e.param = "n"; throw e; } return { n }; };');
  expect(await executor.checkParams({ workflowVersion: VERSION, workDir: dir, overrides: { n: 5 }, store: storeConfig })).toEqual({ ok: true, values: { n: 5 } });
  expect(await executor.checkParams({ workflowVersion: VERSION, workDir: dir, overrides: { n: 50 }, store: storeConfig })).toEqual({ ok: false, name: 'n', message: 'n must be at most 10' });
  for (const pid of ready) expect(alive(pid)).toBe(false);
});

it('ends warm processes, idle or running a task that blocks its event loop, when the server process dies (SIGKILL)', async () => {
  const script = `
    const { LocalExecutor } = require(${JSON.stringify(path.join(path.dirname(defaultTaskEntry()), 'local', 'local-executor.js'))});
    const { FilesystemStore } = require(${JSON.stringify(path.join(path.dirname(defaultTaskEntry()), '..', 'stores', 'index.js'))});
    const store = new FilesystemStore(${JSON.stringify(store.root)});
    const ex = new LocalExecutor({ store });
    const storeConfig = { kind: 'filesystem', root: store.root };
    ex.warm(storeConfig, 3);
    setTimeout(() => {
      const idle = ex.warmPids;
      const invocation = { runId: 'run-k', task: 'sleep', attempt: 1, workflowVersion: ${JSON.stringify(VERSION)}, workDir: ${JSON.stringify(dir)}, inputs: {}, outputTypes: {}, params: {}, store: storeConfig };
      ex.launch({ invocation, env: {}, resources: {}, workflow: 'w', policy: { retries: 0, cache: false, resources: {}, env: {}, secrets: [] } }, (s, text) => process.stdout.write(text));
      process.stdout.write('idle=' + idle.join(',') + '\\n');
    }, 1500);
    setInterval(() => undefined, 1000);`;
  // The running task blocks its event loop, so it cannot notice its stdin closing: the watchdog thread must end it.
  await store.putFile(
    taskModuleKey(VERSION, 'sleep'),
    'module.exports = async function (__cg) { console.log("running=" + process.pid); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000); return {}; };'
  );
  const server = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  server.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const running = Number(await waitFor(async () => out.match(/running=(\d+)/)?.[1], 20_000, 'task in a warm process'));
  const idle = (out.match(/idle=(\S+)/)?.[1] ?? '').split(',').map(Number);
  expect(idle).toContain(running);
  const all = [...new Set([...idle, running])];
  expect(all.every(alive)).toBe(true);
  server.kill('SIGKILL');
  await waitFor(async () => (all.some(alive) ? undefined : true), 10_000, 'warm processes to end with the server');
});
