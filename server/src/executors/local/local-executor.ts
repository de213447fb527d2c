import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type StoreConfig, TaskError, TaskResult, attemptKey } from '@cellgraph/schema';
import type { ArtifactStore } from '../../stores';
import type { AttemptHandle, AttemptOutcome, AttemptSpec, Executor, LogListener } from '../executor';
import { INVOCATION_ENV, type ParamsCheck, type ParamsCheckAnswer, withSecretNames } from '../task-entry-protocol';
import { logTail } from '../log-tail';
import { stopLostAttempts } from './lost-attempts';
import { runParamsCheck } from './params-check';
import { taskEnvironment } from './task-env';
import { ElementBatches, elementsPerProcessFromEnv } from './element-batches';
import { WarmPool, poolMarkersDir } from './warm-pool';

/** How long a process gets between SIGTERM and SIGKILL when stopped. */
const KILL_GRACE_MS = 2000;

/**
 * The embedded default executor: each task attempt is a child process running the task
 * entry (`node task-entry.js`) in the notebook's directory. Processes get their own
 * process group so a timeout or Ctrl-C ends everything the task started, and a clean
 * environment: what the task declares, never the server's token or credentials (see
 * task-env.ts and docs/trust-model.md).
 *
 * Attempts start in a warm process when one is ready (warm-pool.ts, docs/warm-pool.md):
 * the same one process per attempt, started ahead of need. A task whose declared env sets
 * a variable Node reads only at start-up (NODE_OPTIONS, locale, ...) starts cold.
 * Foreach elements are the exception: they run in batch processes, one element after
 * another (element-batches.ts).
 */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly store: ArtifactStore;
  private readonly entry: string;
  private readonly serverEnv: NodeJS.ProcessEnv;
  private readonly pool?: WarmPool;
  private readonly elements?: ElementBatches;

  /**
   * `env`: the server's environment, which tasks see only a few harmless variables of (default process.env).
   * `warmPool`: start attempts in pre-started processes (default true).
   */
  constructor(options: {
    store: ArtifactStore;
    taskEntry?: string;
    env?: NodeJS.ProcessEnv;
    warmPool?: boolean;
    /** The most foreach elements one process runs in a row (default: CELLGRAPH_ELEMENTS_PER_PROCESS of `env`, else 1000; 1: a process per element). */
    elementsPerProcess?: number;
  }) {
    this.store = options.store;
    this.entry = options.taskEntry ?? defaultTaskEntry();
    this.serverEnv = options.env ?? process.env;
    if (options.warmPool ?? true) this.pool = WarmPool.for(this.entry);
    const perProcess = options.elementsPerProcess ?? elementsPerProcessFromEnv(this.serverEnv);
    if (perProcess > 1) this.elements = new ElementBatches({ entry: this.entry, store: this.store, pool: this.pool, perProcess });
  }

  /** Starts `slots` warm processes for a store's tasks ahead of the first attempt. */
  warm(store: StoreConfig, slots: number): void {
    this.pool?.warm(taskEnvironment({ serverEnv: this.serverEnv, store }), slots);
  }

  /** Evaluates a workflow's parameters module in a task process (a warm one when ready). */
  checkParams(check: ParamsCheck): Promise<ParamsCheckAnswer> {
    const env = taskEnvironment({ serverEnv: this.serverEnv, store: check.store });
    return runParamsCheck(check, this.entry, { env, warm: this.pool?.take(env) });
  }

  /** Ends the idle warm processes (attempts running go on; a later run warms the pool again). */
  close(): void {
    this.pool?.close();
    this.elements?.close();
  }

  /** A foreach task's elements are done: its batch processes end. */
  endBatch(key: string): void {
    this.elements?.end(key);
  }

  /** The idle warm processes' ids (tests). */
  get warmPids(): number[] {
    return this.pool?.idlePids ?? [];
  }

  launch(spec: AttemptSpec, onLog: LogListener): AttemptHandle {
    const inv = withSecretNames(spec.invocation, spec.policy.secrets);
    let base: Record<string, string>;
    let env: Record<string, string>;
    try {
      base = taskEnvironment({ serverEnv: this.serverEnv, store: inv.store });
      env = taskEnvironment({ serverEnv: this.serverEnv, store: inv.store, env: spec.env, secrets: spec.policy.secrets });
    } catch (e) {
      const error = TaskError.parse({ name: (e as Error).name, message: (e as Error).message, kind: 'infrastructure' });
      return { done: Promise.resolve({ kind: 'lost', error, log: '' }), cancel: () => undefined };
    }
    const own = Object.fromEntries(Object.entries(env).filter(([name, value]) => base[name] !== value));
    // Foreach elements run in batch processes (element-batches.ts).
    if (spec.batch !== undefined && this.elements !== undefined) return this.elements.launch(spec, inv, onLog, { base, own, cold: Object.keys(own).some(readAtStartup) });
    const warm = Object.keys(own).some(readAtStartup) ? undefined : this.pool?.take(base);
    warm?.assign({ kind: 'attempt', invocation: JSON.stringify(inv), env: own });
    const child =
      warm?.child ??
      spawn(process.execPath, [this.entry], {
        cwd: inv.workDir,
        env: { ...env, [INVOCATION_ENV]: JSON.stringify(inv) },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true
      });
    let log = '';
    let stopReason: 'timeout' | 'cancelled' | undefined;
    const capture = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log += text;
      onLog(stream, text);
    };
    child.stdout.on('data', capture('stdout'));
    child.stderr.on('data', capture('stderr'));

    const stop = (reason: 'timeout' | 'cancelled') => {
      if (stopReason !== undefined || child.exitCode !== null || child.signalCode !== null) return;
      stopReason = reason;
      killGroup(child.pid, 'SIGTERM');
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
    };
    const timer = spec.timeoutMs !== undefined ? setTimeout(() => stop('timeout'), spec.timeoutMs) : undefined;

    const done = new Promise<AttemptOutcome>((resolve) => {
      const finish = async (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (timer) clearTimeout(timer);
        // The task process may have left children behind in its group; end them too.
        killGroup(child.pid, 'SIGKILL');
        // A warm process killed (timeout, cancel, crash) could not remove its attempt marker.
        if (warm !== undefined && child.pid !== undefined) fs.rmSync(path.join(poolMarkersDir(), `${child.pid}.json`), { force: true });
        // The log is filed while the result is read: both are on the critical path of the next task.
        const [, reported] = await Promise.all([
          this.store.putFile(attemptKey(inv.runId, inv.task, inv.attempt, 'log.txt', inv.element), log).catch(() => undefined),
          stopReason === undefined ? this.readResult(spec).catch((err: Error) => err) : undefined
        ]);
        if (stopReason !== undefined) {
          const message =
            stopReason === 'timeout' ? `task exceeded its timeout of ${(spec.timeoutMs ?? 0) / 1000} s and was stopped` : 'task was cancelled';
          resolve({ kind: 'lost', log, error: { name: stopReason === 'timeout' ? 'TimeoutError' : 'CancelledError', message, kind: stopReason } });
          return;
        }
        if (reported !== undefined && !(reported instanceof Error)) {
          resolve({ kind: 'reported', result: reported, log });
          return;
        }
        const why = spawnError
          ? `could not start the task process: ${spawnError.message}`
          : `task process ${signal ? `was killed by ${signal}` : `exited with code ${code}`} without reporting a result`;
        const detail = reported instanceof Error ? ` (${reported.message})` : '';
        resolve({ kind: 'lost', log, error: TaskError.parse({ name: 'ProcessExitError', message: `${why}${detail}${logTail(log)}`, kind: 'exit' }) });
      };
      child.on('error', (err) => void finish(null, null, err));
      child.on('close', (code, signal) => void finish(code, signal));
    });
    return { done, cancel: () => stop('cancelled') };
  }

  /** Local attempts cannot be followed again (their pipes died with the old process): stop orphans. */
  async recoverAttempt(spec: AttemptSpec): Promise<undefined> {
    await stopLostAttempts(spec.invocation.runId, spec.invocation.task);
    return undefined;
  }

  private async readResult(spec: AttemptSpec): Promise<TaskResult | undefined> {
    const inv = spec.invocation;
    const key = attemptKey(inv.runId, inv.task, inv.attempt, 'result.json', inv.element);
    if (!(await this.store.hasFile(key))) return undefined;
    return TaskResult.parse(JSON.parse((await this.store.getFile(key)).toString('utf8')));
  }
}

/** Variables Node (or ICU, OpenSSL, libuv) reads once at start: a warm process would ignore a task's value. */
function readAtStartup(name: string): boolean {
  return /^(NODE_|UV_|LC_|OPENSSL_|SSL_CERT_)/.test(name) || name === 'LANG' || name === 'LANGUAGE';
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone: nothing left to stop.
  }
}


/**
 * The compiled task entry beside this file; under ts-jest (running sources) the built
 * copy in dist/, which the test command builds first.
 */
export function defaultTaskEntry(): string {
  const sibling = path.join(__dirname, '..', 'task-entry.js');
  if (fs.existsSync(sibling)) return sibling;
  return path.resolve(__dirname, '..', '..', '..', 'dist', 'executors', 'task-entry.js');
}
