import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TaskError, type TaskInvocation, TaskResult, attemptKey } from '@cellgraph/schema';
import { NotFoundError } from '../../errors';
import type { ArtifactStore } from '../../stores';
import type { AttemptHandle, AttemptOutcome, AttemptSpec, LogListener } from '../executor';
import { logTail } from '../log-tail';
import { POOL_ENV, POOL_MARKERS_ENV, type PoolAssignment, elementEndPrefix } from '../task-entry-protocol';
import { type WarmPool, poolMarkersDir } from './warm-pool';

/** How long a process gets between SIGTERM and SIGKILL when stopped (as a task process). */
const KILL_GRACE_MS = 2000;

/**
 * An element that ran this long ends its process's batch: a fresh process then costs under
 * ~5 % of an element, so long elements get a process each, as ordinary tasks do.
 */
export const LONG_ELEMENT_MS = 2000;

/** The most elements one process runs when the executor is not told otherwise. */
export const DEFAULT_ELEMENTS_PER_PROCESS = 1000;

/** The server's (or CLI's) variable setting the most elements one process runs; `1`: a process per element. */
export const ELEMENTS_PER_PROCESS_ENV = 'CELLGRAPH_ELEMENTS_PER_PROCESS';

/** {@link ELEMENTS_PER_PROCESS_ENV} from an environment (the default when unset); anything but a positive integer is refused. */
export function elementsPerProcessFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env[ELEMENTS_PER_PROCESS_ENV];
  if (raw === undefined || raw === '') return DEFAULT_ELEMENTS_PER_PROCESS;
  if (!/^[1-9][0-9]{0,6}$/.test(raw)) throw new RangeError(`${ELEMENTS_PER_PROCESS_ENV} must be a whole number from 1 (a process per element), got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** An idle batch process nobody asked for this long ends (endBatch normally ends it sooner). */
const IDLE_MS = 10_000;

/** How a process is started for a batch: from the warm pool, else cold (see LocalExecutor). */
export interface BatchStart {
  /** The clean environment warm processes have (task-env.ts without the task's own variables). */
  base: Record<string, string>;
  /** The task's own variables (declared env and secrets). */
  own: Record<string, string>;
  /** Whether `own` sets a variable Node reads only at start (the process must start cold with it). */
  cold: boolean;
}

/** One element attempt in a batch process. */
interface Element {
  spec: AttemptSpec;
  inv: TaskInvocation;
  onLog: LogListener;
  log: string;
  ended: { stdout: boolean; stderr: boolean };
  more: boolean;
  stopReason?: 'timeout' | 'cancelled';
  timer?: NodeJS.Timeout;
  resolve(outcome: AttemptOutcome): void;
}

/** A process running elements of one batch key. */
interface BatchProcess {
  key: string;
  child: ChildProcessWithoutNullStreams;
  /** Elements handed to it so far (the first travels with its assignment). */
  served: number;
  current?: Element;
  /** Output between two elements (a timer of an earlier element): it goes to the next element's log. */
  between: string;
  idleTimer?: NodeJS.Timeout;
  exited: boolean;
}

/**
 * Runs foreach elements in batches (docs/dynamic-workflows.md, "Elements in batches"): an
 * attempt whose spec carries a `batch` key goes to an idle process of that key, which runs
 * it as an attempt of its own (module evaluated afresh, result, cells and log filed under
 * its element), else to a new process (warm when the pool has one). A process takes
 * elements one at a time, so a crash, a timeout or a cancel fails only the element in
 * flight; the elements not yet handed out go to other processes. A process ends after
 * `perProcess` elements, after an element that ran {@link LONG_ELEMENT_MS} or more, after
 * an element that left state behind (it says so), or when its batch ends.
 */
export class ElementBatches {
  private readonly idle = new Map<string, BatchProcess[]>();

  constructor(
    private readonly options: { entry: string; store: ArtifactStore; pool?: WarmPool; perProcess: number }
  ) {}

  launch(spec: AttemptSpec, inv: TaskInvocation, onLog: LogListener, start: BatchStart): AttemptHandle {
    const key = `${spec.batch ?? ''}\n${JSON.stringify(Object.entries(start.own).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    let resolve!: (outcome: AttemptOutcome) => void;
    const done = new Promise<AttemptOutcome>((r) => (resolve = r));
    const element: Element = { spec, inv, onLog, log: '', ended: { stdout: false, stderr: false }, more: false, resolve };
    const proc = this.takeIdle(key) ?? this.start(key, start, inv);
    this.assign(proc, element);
    if (spec.timeoutMs !== undefined) element.timer = setTimeout(() => this.stop(proc, element, 'timeout'), spec.timeoutMs);
    return { done, cancel: () => this.stop(proc, element, 'cancelled') };
  }

  /** An idle process of the batch still alive (one that exited is dropped, whether or not its close was seen yet). */
  private takeIdle(key: string): BatchProcess | undefined {
    const list = this.idle.get(key);
    for (let proc = list?.pop(); proc !== undefined; proc = list?.pop()) {
      if (!proc.exited && proc.child.exitCode === null && proc.child.signalCode === null) return proc;
    }
    return undefined;
  }

  /** Ends the idle processes of a batch (its task finished). */
  end(batch: string): void {
    for (const [key, procs] of this.idle) {
      if (!key.startsWith(`${batch}\n`)) continue;
      this.idle.delete(key);
      for (const p of procs) this.retire(p);
    }
  }

  /** Ends every idle batch process. */
  close(): void {
    for (const procs of this.idle.values()) for (const p of procs) this.retire(p);
    this.idle.clear();
  }

  private start(key: string, start: BatchStart, inv: TaskInvocation): BatchProcess {
    const nonce = randomBytes(12).toString('hex');
    const warm = start.cold ? undefined : this.options.pool?.take(start.base);
    const child =
      warm?.child ??
      spawn(process.execPath, [this.options.entry], {
        cwd: inv.workDir,
        env: { ...start.base, ...start.own, [POOL_ENV]: '1', [POOL_MARKERS_ENV]: poolMarkersDir() },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true
      });
    const proc: BatchProcess = { key, child, served: 0, between: '', exited: false };
    const first: PoolAssignment = { kind: 'elements', invocation: JSON.stringify(inv), env: warm !== undefined ? start.own : {}, nonce };
    child.stdin.on('error', () => undefined);
    child.stdin.write(`${JSON.stringify(first)}\n`);
    const prefix = elementEndPrefix(nonce);
    for (const stream of ['stdout', 'stderr'] as const) {
      const marked = new MarkedStream(
        prefix,
        (text) => this.output(proc, stream, text),
        (more) => this.ended(proc, stream, more)
      );
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => marked.push(chunk));
    }
    child.on('error', (err) => void this.exited(proc, null, null, err));
    child.on('close', (code, signal) => void this.exited(proc, code, signal));
    return proc;
  }

  private assign(proc: BatchProcess, element: Element): void {
    if (proc.idleTimer !== undefined) clearTimeout(proc.idleTimer);
    setReferenced(proc.child, true);
    proc.current = element;
    if (proc.between !== '') {
      element.log += proc.between;
      proc.between = '';
    }
    // The first element travelled with the process's assignment (start()).
    if (proc.served > 0) proc.child.stdin.write(`${JSON.stringify({ invocation: JSON.stringify(element.inv) })}\n`);
    proc.served += 1;
  }

  private output(proc: BatchProcess, stream: 'stdout' | 'stderr', text: string): void {
    const element = proc.current;
    if (element === undefined || element.ended[stream]) {
      proc.between += text;
      return;
    }
    element.log += text;
    element.onLog(stream, text);
  }

  /** An element's output on one stream is complete; with both, its attempt is. */
  private ended(proc: BatchProcess, stream: 'stdout' | 'stderr', more: boolean): void {
    const element = proc.current;
    if (element === undefined) return;
    element.ended[stream] = true;
    if (stream === 'stdout') element.more = more;
    if (!element.ended.stdout || !element.ended.stderr || element.stopReason !== undefined) return;
    proc.current = undefined;
    void this.settle(element, { proc });
  }

  /** Keeps a process for the next element of its batch; it holds no reference on the server's event loop meanwhile. */
  private park(proc: BatchProcess): void {
    setReferenced(proc.child, false);
    const list = this.idle.get(proc.key) ?? [];
    list.push(proc);
    this.idle.set(proc.key, list);
    proc.idleTimer = setTimeout(() => this.forget(proc, true), IDLE_MS);
    proc.idleTimer.unref();
  }

  private forget(proc: BatchProcess, kill: boolean): void {
    const list = this.idle.get(proc.key);
    const i = list?.indexOf(proc) ?? -1;
    if (list !== undefined && i >= 0) list.splice(i, 1);
    if (list?.length === 0) this.idle.delete(proc.key);
    if (kill) this.retire(proc);
  }

  private retire(proc: BatchProcess): void {
    if (proc.idleTimer !== undefined) clearTimeout(proc.idleTimer);
    proc.child.stdin.destroy();
    killGroup(proc.child.pid, 'SIGKILL');
  }

  private stop(proc: BatchProcess, element: Element, reason: 'timeout' | 'cancelled'): void {
    if (proc.current !== element || element.stopReason !== undefined || proc.exited) return;
    element.stopReason = reason;
    killGroup(proc.child.pid, 'SIGTERM');
    setTimeout(() => killGroup(proc.child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
  }

  /** The process ended: the element in flight (if any) is lost or stopped; the process's batch goes on elsewhere. */
  private async exited(proc: BatchProcess, code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): Promise<void> {
    if (proc.exited) return;
    proc.exited = true;
    this.forget(proc, false);
    // What the task started may be left in its group.
    killGroup(proc.child.pid, 'SIGKILL');
    if (proc.child.pid !== undefined) fs.rmSync(path.join(poolMarkersDir(), `${proc.child.pid}.json`), { force: true });
    const element = proc.current;
    proc.current = undefined;
    if (element === undefined) return;
    const why = spawnError
      ? `could not start the task process: ${spawnError.message}`
      : `task process ${signal ? `was killed by ${signal}` : `exited with code ${code}`} without reporting a result`;
    await this.settle(element, { lost: why });
  }

  /**
   * Files the element's log, reads its result, and ends its attempt. A process that ended
   * the element well (`proc`) is kept for the next element or retired first, so the next
   * launch finds it idle or not at all.
   */
  private async settle(element: Element, ended: { proc: BatchProcess } | { lost: string }): Promise<void> {
    if (element.timer !== undefined) clearTimeout(element.timer);
    const { inv, spec, log, stopReason } = element;
    const [, reported] = await Promise.all([
      this.options.store.putFile(attemptKey(inv.runId, inv.task, inv.attempt, 'log.txt', inv.element), log).catch(() => undefined),
      stopReason === undefined ? readResult(this.options.store, inv).catch((err: Error) => err) : undefined
    ]);
    if ('proc' in ended) {
      // The runner's own time (not the process's start) says whether the element was long.
      const short = reported !== undefined && !(reported instanceof Error) && reported.durationMs < LONG_ELEMENT_MS;
      if (element.more && short && ended.proc.served < this.options.perProcess && !ended.proc.exited) this.park(ended.proc);
      else this.retire(ended.proc);
    }
    if (stopReason !== undefined) {
      const message = stopReason === 'timeout' ? `task exceeded its timeout of ${(spec.timeoutMs ?? 0) / 1000} s and was stopped` : 'task was cancelled';
      element.resolve({ kind: 'lost', log, error: { name: stopReason === 'timeout' ? 'TimeoutError' : 'CancelledError', message, kind: stopReason } });
      return;
    }
    if (reported !== undefined && !(reported instanceof Error)) {
      element.resolve({ kind: 'reported', result: reported, log });
      return;
    }
    const why = 'lost' in ended ? ended.lost : 'the task process ended the element without reporting a result';
    const detail = reported instanceof Error ? ` (${reported.message})` : '';
    element.resolve({ kind: 'lost', log, error: TaskError.parse({ name: 'ProcessExitError', message: `${why}${detail}${logTail(log)}`, kind: 'exit' }) });
  }
}

/** The result the element's attempt filed, or undefined when it filed none (read once: no existence check first). */
async function readResult(store: ArtifactStore, inv: TaskInvocation): Promise<TaskResult | undefined> {
  let bytes: Buffer;
  try {
    bytes = await store.getFile(attemptKey(inv.runId, inv.task, inv.attempt, 'result.json', inv.element));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  return TaskResult.parse(JSON.parse(bytes.toString('utf8')));
}

/**
 * A process's output stream cut at the end markers: text before a marker goes to `onText`,
 * the marker's flag to `onMarker`. A tail that could be the start of a marker is held back
 * until the next chunk says.
 */
export class MarkedStream {
  private buffered = '';

  constructor(
    private readonly prefix: string,
    private readonly onText: (text: string) => void,
    private readonly onMarker: (more: boolean) => void
  ) {}

  push(chunk: string): void {
    this.buffered += chunk;
    for (;;) {
      const at = this.buffered.indexOf(this.prefix);
      if (at < 0) break;
      const end = at + this.prefix.length + 2;
      if (this.buffered.length < end) {
        this.emit(at);
        return;
      }
      this.emit(at);
      const more = this.buffered[this.prefix.length] === '1';
      this.buffered = this.buffered.slice(this.prefix.length + 2);
      this.onMarker(more);
    }
    this.emit(this.buffered.length - heldBack(this.buffered, this.prefix));
  }

  private emit(upTo: number): void {
    if (upTo <= 0) return;
    this.onText(this.buffered.slice(0, upTo));
    this.buffered = this.buffered.slice(upTo);
  }
}

/** The length of the longest end of `text` that begins `prefix` (0 when none). */
function heldBack(text: string, prefix: string): number {
  // The prefix starts with a NUL, which text rarely holds: most chunks end here.
  const nul = text.lastIndexOf(prefix[0]);
  if (nul < 0 || text.length - nul >= prefix.length) return 0;
  for (let k = Math.min(prefix.length - 1, text.length); k > 0; k--) {
    if (text.endsWith(prefix.slice(0, k))) return k;
  }
  return 0;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** An idle batch process must not keep the server (or a CLI run) alive; a working one must. */
function setReferenced(child: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as { ref?(): void; unref?(): void }[]) {
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}
