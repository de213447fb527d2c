import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CompileLimitError, CompileUnavailableError } from '../../errors';
import { unchanged, type InputStamp } from '../compile-cache';
import { NOTEBOOKS_KEPT } from '../program-reuse';
import type { CompileInput, CompileResult } from '../index';
import type { CompileJob, WorkerMessage } from './protocol';

export type { CompileInput } from '../index';

/** Sizes and limits of a compile pool. */
export interface CompilePoolOptions {
  /** Worker threads compiling at once (default: cores - 1, at least 1, at most 2; see defaultWorkers). */
  workers?: number;
  /** Wall-clock limit of one compile, from the moment a worker takes it (default 60 s). */
  timeoutMs?: number;
  /** Heap limit of a worker (V8's old generation), MB (default 1024). */
  memoryMb?: number;
  /** Successful compiles kept in memory, by content hash (default 128). */
  cacheEntries?: number;
  /** Different compiles waiting for a worker at most; more are refused with CompileUnavailableError (default 256). */
  maxQueue?: number;
  /** Where the limits are configured, named in CompileLimitError messages. */
  settings?: { time: string; memory: string };
  /** The worker script (default: compile-worker.js beside this module, or its built copy). */
  workerScript?: string;
}

/** What the pool has done, for tests and the bench. */
export interface CompilePoolStats {
  /** Compiles a worker actually ran (cache hits and joined flights excluded). */
  compiled: number;
  cacheHits: number;
  /** Requests that joined an identical compile already in flight. */
  joined: number;
  /** Workers stopped for running past a limit. */
  limited: number;
  /**
   * Compiles sent to a worker that had compiled the same notebook lately, and so kept its
   * programs and task checks (the live DAG's edits); `compiled` minus this went elsewhere.
   */
  sameWorker: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/**
 * A 400-task notebook's compile peaks near 300 MB of heap; issue 13's type bomb (12 tasks of
 * 90,000-member unions) needs over 1.2 GB. A gigabyte keeps the one well inside and stops
 * the other.
 */
const DEFAULT_MEMORY_MB = 1024;
const DEFAULT_CACHE_ENTRIES = 128;
const DEFAULT_MAX_QUEUE = 256;
const CLOSED = 'the compile pool is closed: the server is stopping';

interface Pending {
  id: number;
  input: CompileInput;
  resolve: (r: Answer) => void;
  reject: (e: Error) => void;
}

type Answer = { result: CompileResult; stamps: InputStamp[] };

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Pending;
  timer?: NodeJS.Timeout;
  /** Set once the pool gave up on this worker (limit hit, crash): its later events are ignored. */
  retired: boolean;
  /** Notebook paths this worker compiled last, most recent last (as many as it keeps programs for). */
  notebooks: string[];
}

/**
 * Compiles notebooks in a bounded pool of worker threads, so a compile never blocks the
 * server's event loop: health checks, schedules and other requests keep their latency
 * however long a type check takes. Each compile is bounded in time (the worker is
 * terminated and replaced) and memory (the worker's V8 heap limit); either ends in a
 * CompileLimitError naming the limit. Identical concurrent compiles (same path and text)
 * share one flight, and successful results are kept in a bounded LRU keyed by content
 * hash, reused while every file the checker read is unchanged.
 */
export class CompilePool {
  private readonly size: number;
  private readonly timeoutMs: number;
  private readonly memoryMb: number;
  private readonly cacheEntries: number;
  private readonly maxQueue: number;
  private readonly settings: { time: string; memory: string };
  private readonly script: string;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly inflight = new Map<string, Promise<CompileResult>>();
  private readonly cache = new Map<string, Answer>();
  private nextId = 1;
  private closed = false;
  readonly stats: CompilePoolStats = { compiled: 0, cacheHits: 0, joined: 0, limited: 0, sameWorker: 0 };

  constructor(options: CompilePoolOptions = {}) {
    this.size = Math.max(1, options.workers ?? defaultWorkers(os.availableParallelism()));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.memoryMb = options.memoryMb ?? DEFAULT_MEMORY_MB;
    this.cacheEntries = options.cacheEntries ?? DEFAULT_CACHE_ENTRIES;
    this.maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.settings = options.settings ?? { time: 'timeoutMs', memory: 'memoryMb' };
    this.script = options.workerScript ?? defaultWorkerScript();
  }

  /**
   * Compiles a notebook (or answers from the cache, or joins an identical compile in
   * flight). Rejects with CompileLimitError when the compile runs past a limit.
   */
  compile(input: CompileInput): Promise<CompileResult> {
    if (this.closed) return Promise.reject(new CompileUnavailableError(CLOSED));
    const key = contentKey(input);
    const flying = this.inflight.get(key);
    if (flying !== undefined) {
      this.stats.joined++;
      return flying;
    }
    const hit = this.cache.get(key);
    if (hit === undefined && this.queue.length >= this.maxQueue) {
      return Promise.reject(new CompileUnavailableError(`${this.queue.length} compiles are already waiting for the compile pool; try again shortly`));
    }
    // The cache check is part of the flight (its file stats are asynchronous), so identical
    // compiles asked meanwhile join it instead of checking again.
    const flight = this.fly(key, input, hit);
    this.inflight.set(key, flight);
    const land = () => this.inflight.delete(key);
    flight.then(land, land);
    return flight;
  }

  /** Answers from the cache entry while every file it read is unchanged, else compiles in a worker. */
  private async fly(key: string, input: CompileInput, hit: Answer | undefined): Promise<CompileResult> {
    if (hit !== undefined) {
      if (await unchanged(hit.stamps)) {
        if (this.cache.get(key) === hit) {
          this.cache.delete(key);
          this.cache.set(key, hit); // most recently used goes last
        }
        this.stats.cacheHits++;
        return hit.result;
      }
      if (this.cache.get(key) === hit) this.cache.delete(key);
    }
    const answer = await this.enqueue(input);
    if (answer.result.ok) this.remember(key, answer);
    return answer.result;
  }

  /** Stops every worker; compiles waiting or running are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const stopping = new CompileUnavailableError(CLOSED);
    for (const p of this.queue.splice(0)) p.reject(stopping);
    await Promise.all(
      this.slots.splice(0).map((s) => {
        s.retired = true;
        if (s.timer) clearTimeout(s.timer);
        s.job?.reject(stopping);
        return s.worker.terminate();
      })
    );
  }

  private remember(key: string, answer: Answer): void {
    this.cache.set(key, answer);
    if (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value as string);
  }

  private enqueue(input: CompileInput): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, resolve, reject });
      this.pump();
    });
  }

  /**
   * Hands queued jobs, oldest first, to ready idle workers, starting workers up to the pool's
   * size. A job goes to the idle worker that compiled its notebook lately when there is one
   * (it kept that notebook's programs and task checks: an edit then costs what it changed),
   * else to one that has compiled nothing yet, else to the idle worker that compiled the
   * fewest notebooks; it never waits for a busy worker.
   */
  private pump(): void {
    if (this.closed) return;
    for (;;) {
      const idle = this.slots.filter((s) => s.ready && s.job === undefined);
      if (this.queue.length === 0 || idle.length === 0) break;
      const job = this.queue.shift() as Pending;
      const warm = idle.find((s) => s.notebooks.includes(job.input.path));
      if (warm !== undefined) this.stats.sameWorker++;
      this.dispatch(warm ?? idle.reduce((a, b) => (b.notebooks.length < a.notebooks.length ? b : a)), job);
    }
    const starting = this.slots.filter((s) => !s.ready).length;
    while (this.slots.length < this.size && this.queue.length > starting) this.startWorker();
  }

  private dispatch(slot: Slot, job: Pending): void {
    slot.job = job;
    slot.timer = setTimeout(() => this.retire(slot, new CompileLimitError('time', this.timeoutMs / 1000, this.settings.time)), this.timeoutMs);
    slot.timer.unref();
    this.stats.compiled++;
    slot.notebooks = [...slot.notebooks.filter((p) => p !== job.input.path), job.input.path].slice(-NOTEBOOKS_KEPT);
    const message: CompileJob = { id: job.id, input: job.input };
    slot.worker.postMessage(message);
  }

  private startWorker(): void {
    const worker = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: this.memoryMb } });
    // An idle worker must not keep a CLI or test process alive; close() stops them for good.
    worker.unref();
    const slot: Slot = { worker, ready: false, retired: false, notebooks: [] };
    this.slots.push(slot);
    worker.on('message', (m: WorkerMessage) => {
      if (slot.retired) return;
      if (m.kind === 'ready') {
        slot.ready = true;
        this.pump();
        return;
      }
      const job = slot.job;
      if (job === undefined || job.id !== m.id) return;
      if (slot.timer) clearTimeout(slot.timer);
      slot.job = undefined;
      slot.timer = undefined;
      if (m.kind === 'done') job.resolve({ result: m.result, stamps: m.stamps });
      else job.reject(new Error(`the compiler failed: ${m.message}`));
      this.pump();
    });
    worker.on('error', (e: Error & { code?: string }) => {
      const limit = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new CompileLimitError('memory', this.memoryMb, this.settings.memory) : undefined;
      this.retire(slot, limit ?? new Error(`a compile worker failed: ${e.message}`));
    });
    worker.on('exit', (code) => this.retire(slot, new Error(`a compile worker exited (code ${code}) while compiling`)));
  }

  /**
   * Gives up on a worker: the job it holds fails with `why` (a limit, or a crash), the
   * thread is terminated, and a new worker takes the queue. A worker that fails while
   * warming up fails the oldest waiting job, so a broken install cannot queue forever.
   */
  private retire(slot: Slot, why: Error): void {
    if (slot.retired) return;
    slot.retired = true;
    if (slot.timer) clearTimeout(slot.timer);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (why instanceof CompileLimitError) this.stats.limited++;
    const victim = slot.job ?? (slot.ready ? undefined : this.queue.shift());
    victim?.reject(why);
    void slot.worker.terminate();
    this.pump();
  }
}

/**
 * Workers compiling at once by default: one core is left to the server's event loop (on 2
 * cores, one worker: a storm of compiles then never holds every core while /health and
 * schedules wait for one), and at most 2 (each may use its heap limit, 1 GB by default).
 */
export function defaultWorkers(cores: number): number {
  return Math.max(1, Math.min(2, cores - 1));
}

/** The cache and single-flight key: a hash of where the notebook is, its workflow's name and what it says. */
function contentKey(input: CompileInput): string {
  return createHash('sha256').update(input.path).update('\0').update(input.name ?? '').update('\0').update(input.text).digest('hex');
}

/**
 * The compiled worker beside this module; under ts-jest (running sources) the built copy
 * in dist/, which the test command builds first.
 */
function defaultWorkerScript(): string {
  const sibling = path.join(__dirname, 'compile-worker.js');
  if (fs.existsSync(sibling)) return sibling;
  return path.resolve(__dirname, '..', '..', '..', 'dist', 'compiler', 'pool', 'compile-worker.js');
}
