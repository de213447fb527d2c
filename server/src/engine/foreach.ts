import { type ArtifactRef, type CellRun, type ElementCounts, type ElementRecord, type ElementState, type ForeachSpec, type OutputRef, type TaskError, type TaskIR, listTypeText } from '@cellgraph/schema';
import type { AttemptHandle, AttemptSpec, LogListener } from '../executors/executor';
import { type BackoffPolicy, backoffDelay } from '../retry';
import type { CacheEntry } from '../state/state-store';
import type { ArtifactStore } from '../stores';
import { ENCODED_UNDEFINED, joinEncodedList, splitEncodedList } from './encoded-list';
import { Slots } from './slots';

/**
 * Runs a foreach task (docs/dynamic-workflows.md): splits its upstream list into one
 * content-addressed value per element, runs one attempt per element (cached, retried and
 * timed out per element, at most `maxParallel` at once within the engine's slots), and
 * collects each output into a list in element order.
 * Lists are split and joined by encoded-list.ts, without decoding user values.
 */

/** Elements prepared (value stored, cache checked) at once when the task sets no maxParallel. */
const UNBOUNDED_WINDOW = 256;

/** The executed notebook shows the outputs of this many elements (those with the lowest indices that ran). */
export const ELEMENTS_SHOWN = 3;

/** What the foreach runner needs from the engine. */
export interface ForeachHost {
  store: ArtifactStore;
  /** The engine's slots: an element attempt holds one while it runs. */
  slots: Slots;
  backoff: BackoffPolicy;
  /** Whether cached element results may be used (task policy and the run's noCache). */
  readCache: boolean;
  writeCache: boolean;
  cacheKey(inputs: Record<string, ArtifactRef>): string;
  getCacheEntry(key: string): Promise<CacheEntry | undefined>;
  putCacheEntry(entry: CacheEntry): Promise<void>;
  attemptSpec(inputs: Record<string, ArtifactRef>, attempt: number, element: number): AttemptSpec;
  launch(spec: AttemptSpec, onLog: LogListener): AttemptHandle;
  /** Where an element attempt's output goes while it runs (filed per element by the executor when it ends). */
  logListener(attempt: number, element: number): LogListener;
  runId: string;
  /** True once the run starts nothing new (another task failed): elements not started stay pending. */
  stopped(): boolean;
  /** Element counts changed (the caller throttles what it persists). */
  onProgress(counts: ElementCounts): void;
}

/** How a foreach task ended. */
export type ForeachOutcome =
  | { status: 'succeeded' | 'cached'; outputs: OutputRef[]; counts: ElementCounts; cells: CellRun[]; attempts: number }
  | { status: 'failed'; error: TaskError; counts: ElementCounts; cells: CellRun[]; attempts: number }
  | { status: 'cancelled'; counts: ElementCounts; cells: CellRun[]; attempts: number };

/** One foreach task in one run. */
export class ForeachRun {
  private readonly states: ElementState[] = [];
  /** Per element: attempts, timing and error, for the elements route (states[i] is its state). */
  private readonly details: Omit<ElementRecord, 'index' | 'state' | 'cached'>[] = [];
  private readonly outputs: (OutputRef[] | undefined)[] = [];
  private readonly running = new Map<number, AttemptHandle>();
  private readonly backoffs = new Set<() => void>();
  private cancelled = false;
  private stopLaunching = false;
  private firstError: TaskError | undefined;
  /** The cells of the elements with the lowest indices that ran (at most ELEMENTS_SHOWN), in element order. */
  private shownCells: { element: number; cells: CellRun[] }[] = [];
  private attempts = 0;

  constructor(
    private readonly host: ForeachHost,
    private readonly task: TaskIR,
    private readonly spec: ForeachSpec
  ) {}

  /** Stops running element attempts and starts no more. */
  cancel(): void {
    this.cancelled = true;
    for (const h of this.running.values()) h.cancel();
    for (const b of this.backoffs) b();
  }

  /** Kept by set(): counting the states on every change cost O(n²) for a wide foreach. */
  private readonly tally: ElementCounts = { total: 0, succeeded: 0, cached: 0, failed: 0, running: 0, pending: 0 };

  counts(): ElementCounts {
    return { ...this.tally };
  }

  /** Every element as the elements route lists it, in element order. */
  elements(): ElementRecord[] {
    return this.states.map((state, index) => ({ index, state, cached: state === 'cached', ...this.details[index] }));
  }

  /** Runs every element of `list` with the task's other inputs `common`. */
  async run(list: ArtifactRef, common: Record<string, ArtifactRef>): Promise<ForeachOutcome> {
    const elements = splitEncodedList(await this.host.store.getBlob(list), this.spec.over);
    for (let i = 0; i < elements.length; i++) {
      this.states.push('pending');
      this.details.push({ attempts: 0 });
    }
    const allowedFailures = Math.floor(elements.length * (1 - this.spec.minSuccessRatio) + 1e-9);
    // Without maxParallel the engine's slots bound what runs; this window only keeps a
    // 10,000-element list from opening 10,000 store writes and cache reads at once.
    const parallel = new Slots(this.spec.maxParallel ?? UNBOUNDED_WINDOW);
    this.tally.total = this.tally.pending = elements.length;
    this.host.onProgress(this.counts());
    await Promise.all(
      elements.map(async (encoded, i) => {
        const release = await parallel.acquire();
        try {
          if (this.cancelled || this.stopLaunching || this.host.stopped()) return;
          const ref = await this.host.store.putBlob(Buffer.from(encoded, 'utf8'));
          await this.runElement(i, { ...common, [this.spec.as]: ref });
          if (this.tally.failed > allowedFailures) this.stopLaunching = true;
        } finally {
          release();
        }
      })
    );
    const counts = this.counts();
    const cells = this.summaryCells(counts);
    if (this.cancelled) return { status: 'cancelled', counts, cells, attempts: this.attempts };
    if (counts.failed <= allowedFailures && counts.pending > 0) {
      const error: TaskError = { name: 'ForeachError', message: `the run stopped (another task failed) with ${counts.pending} of ${counts.total} elements not run`, kind: 'error' };
      return { status: 'failed', error, counts, cells, attempts: this.attempts };
    }
    if (counts.failed > allowedFailures) {
      const error: TaskError = {
        name: 'ForeachError',
        message: `${counts.failed} of ${counts.total} elements failed (at most ${allowedFailures} may, minSuccessRatio ${this.spec.minSuccessRatio})${this.firstError ? `; first: ${this.firstError.message}` : ''}`,
        kind: this.firstError?.kind ?? 'error'
      };
      return { status: 'failed', error, counts, cells, attempts: this.attempts };
    }
    const outputs = await this.collect();
    const status = counts.total > 0 && counts.cached === counts.total ? 'cached' : 'succeeded';
    return { status, outputs, counts, cells, attempts: this.attempts };
  }

  /** One element: its cached result, or attempts until one succeeds or retries run out. */
  private async runElement(i: number, inputs: Record<string, ArtifactRef>): Promise<void> {
    const key = this.host.cacheKey(inputs);
    if (this.host.readCache) {
      const entry = await this.host.getCacheEntry(key);
      if (entry !== undefined && (await this.allStored(entry.outputs))) {
        this.outputs[i] = entry.outputs;
        this.set(i, 'cached');
        return;
      }
    }
    for (let attempt = 1; ; attempt++) {
      if (this.cancelled || this.host.stopped()) return;
      const release = await this.host.slots.acquire();
      let outcome;
      try {
        if (this.cancelled || this.host.stopped()) return;
        this.attempts += 1;
        const started = Date.now();
        this.details[i] = { attempts: attempt, startedAt: new Date(started).toISOString() };
        this.set(i, 'running');
        const handle = this.host.launch(this.host.attemptSpec(inputs, attempt, i), this.host.logListener(attempt, i));
        this.running.set(i, handle);
        outcome = await handle.done;
        this.running.delete(i);
        this.details[i].durationMs = Date.now() - started;
      } finally {
        release();
      }
      const result = outcome.kind === 'reported' ? outcome.result : undefined;
      if (result !== undefined) this.showCells(i, result.cells);
      if (result?.status === 'succeeded') {
        this.outputs[i] = result.outputs;
        if (this.host.writeCache) {
          await this.host.putCacheEntry({ key, task: this.task.name, outputs: result.outputs, metrics: result.metrics, runId: this.host.runId, attempt, createdAt: new Date().toISOString() });
        }
        this.set(i, 'succeeded');
        return;
      }
      const error: TaskError = result?.error ?? (outcome.kind === 'lost' ? outcome.error : { name: 'Error', message: 'element failed', kind: 'error' });
      this.details[i].error = error.message;
      if (this.cancelled || error.kind === 'cancelled') return;
      if (attempt <= this.task.policy.retries) {
        this.set(i, 'pending');
        await this.sleep(backoffDelay(this.host.backoff, attempt));
        continue;
      }
      this.firstError ??= { ...error, message: `element ${i}: ${error.message}` };
      this.set(i, 'failed');
      return;
    }
  }

  private set(i: number, state: ElementState): void {
    this.tally[this.states[i]] -= 1;
    this.tally[state] += 1;
    this.states[i] = state;
    this.host.onProgress(this.counts());
  }

  private async allStored(outputs: OutputRef[]): Promise<boolean> {
    for (const o of outputs) if (!(await this.host.store.hasBlob(o.hash))) return false;
    return true;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.backoffs.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.backoffs.add(done);
    });
  }

  /** Each output as the list of its elements' values; a failed element's is `undefined`. */
  private async collect(): Promise<OutputRef[]> {
    const out: OutputRef[] = [];
    for (const port of this.task.outputs) {
      const parts: string[] = [];
      for (let i = 0; i < this.states.length; i++) {
        const ref = this.outputs[i]?.find((o) => o.name === port.name);
        parts.push(ref === undefined ? ENCODED_UNDEFINED : (await this.host.store.getBlob(ref)).toString('utf8'));
      }
      const stored = await this.host.store.putBlob(joinEncodedList(parts));
      out.push({ name: port.name, type: listTypeText(port.type), ...stored });
    }
    return out;
  }

  /** Keeps an element's cells when its index is among the lowest that ran (a retry's replace its earlier attempt's). */
  private showCells(element: number, cells: CellRun[]): void {
    const shown = this.shownCells.filter((s) => s.element !== element);
    shown.push({ element, cells });
    shown.sort((a, b) => a.element - b.element);
    this.shownCells = shown.slice(0, ELEMENTS_SHOWN);
  }

  /**
   * The executed notebook shows the first few elements that ran under a line counting the
   * elements by state: setup cells as the first of them ran them, each task cell with
   * every shown element's outputs, each under an `element <i>` line.
   */
  private summaryCells(counts: ElementCounts): CellRun[] {
    const shown = this.shownCells;
    const which = shown.length === 0 ? '' : `; the outputs below are element${shown.length > 1 ? 's' : ''} ${shown.map((s) => s.element).join(', ')}${shown.length > 1 ? '' : "'s"}`;
    const summary = `foreach ${this.spec.as} of ${this.spec.over}: ${counts.total} elements, ${counts.succeeded} succeeded, ${counts.cached} cached, ${counts.failed} failed${which}\n`;
    const stream = (text: string) => ({ output_type: 'stream' as const, name: 'stdout' as const, text });
    const taskCells = new Set(this.task.cells);
    const cells = (shown[0]?.cells ?? []).filter((c) => !taskCells.has(c.cell)).map((c) => ({ ...c, outputs: [...c.outputs] }));
    for (const cell of this.task.cells) {
      const runs = shown.map((s) => ({ element: s.element, run: s.cells.find((c) => c.cell === cell) })).filter((r) => r.run !== undefined);
      if (runs.length === 0 && cell !== this.task.cells[0]) continue;
      const outputs = runs.flatMap((r) => (shown.length > 1 ? [stream(`── element ${r.element} ──\n`), ...(r.run as CellRun).outputs] : (r.run as CellRun).outputs));
      if (cell === this.task.cells[0]) outputs.unshift(stream(summary));
      const first = runs[0]?.run;
      cells.push({ cell, outputs, startedAt: first?.startedAt ?? new Date().toISOString(), durationMs: first?.durationMs ?? 0 });
    }
    return cells;
  }
}
