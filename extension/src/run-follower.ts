import type { IDisposable } from '@lumino/disposable';
import { apiRoutes, type RunDetail } from '@cellgraph/schema';
import { elementsLive } from './dag/state';
import type { ICellgraphServer } from './tokens';

/** True once a run will not change any more. */
export function isFinished(run: { status: string }): boolean {
  return run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled';
}

const MIN_FETCH_INTERVAL_MS = 250;
const POLL_MS = 1000;
const RECONNECT_MS = 1000;

/**
 * Follows one run live: the server's event stream says when something changed, and each
 * change (at most four a second) fetches the run's detail (states, durations, attempts),
 * which `onRun` receives. When the stream cannot be had (an old proxy that buffers, a
 * network that drops it), it polls each second instead; it stops when the run finishes.
 * A foreach task's element counts change without events, so while one has elements to run
 * the detail is fetched each second too.
 */
export class RunFollower implements IDisposable {
  private readonly abort = new AbortController();
  private lastSeq = -1;
  private fetching?: Promise<void>;
  private again = false;
  private lastFetch = 0;
  /** One timer per purpose, so clearing one never strands another's waiter. */
  private readonly timers = { fetch: undefined as ReturnType<typeof setTimeout> | undefined, poll: undefined as ReturnType<typeof setTimeout> | undefined, wait: undefined as ReturnType<typeof setTimeout> | undefined, elements: undefined as ReturnType<typeof setTimeout> | undefined };
  private done = false;
  private latest?: RunDetail;

  constructor(private readonly server: ICellgraphServer, readonly runId: string, private readonly onRun: (run: RunDetail) => void, private readonly onError: (err: Error) => void) {
    void this.follow();
  }

  get isDisposed(): boolean {
    return this.abort.signal.aborted;
  }

  /** The last detail fetched. */
  get run(): RunDetail | undefined {
    return this.latest;
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.abort.abort();
    for (const t of Object.values(this.timers)) clearTimeout(t);
  }

  /** Fetches the detail now (e.g. after cancelling from this UI). */
  refresh(): Promise<void> {
    return this.fetchDetail();
  }

  private async follow(): Promise<void> {
    await this.fetchDetail();
    while (!this.done && !this.isDisposed) {
      let streamed = false;
      try {
        for await (const event of this.server.events(this.runId, this.lastSeq, this.abort.signal)) {
          streamed = true;
          this.lastSeq = event.seq;
          this.changed();
        }
        await this.fetchDetail();
      } catch (err) {
        if (this.isDisposed) return;
        if (!streamed) return this.poll();
      }
      if (!this.done) await this.sleep(RECONNECT_MS);
    }
  }

  private poll(): void {
    if (this.done || this.isDisposed) return;
    this.timers.poll = setTimeout(() => void this.fetchDetail().then(() => this.poll()), POLL_MS);
  }

  /** An event arrived: fetch the detail, coalescing bursts. */
  private changed(): void {
    if (this.fetching !== undefined) {
      this.again = true;
      return;
    }
    const wait = Math.max(0, this.lastFetch + MIN_FETCH_INTERVAL_MS - Date.now());
    clearTimeout(this.timers.fetch);
    this.timers.fetch = setTimeout(() => void this.fetchDetail(), wait);
  }

  private fetchDetail(): Promise<void> {
    if (this.fetching !== undefined) {
      this.again = true;
      return this.fetching;
    }
    this.fetching = (async () => {
      try {
        this.lastFetch = Date.now();
        const run = await this.server.call(apiRoutes.getRun, { params: { id: this.runId } });
        if (this.isDisposed) return;
        this.latest = run;
        this.done = isFinished(run);
        this.onRun(run);
        clearTimeout(this.timers.elements);
        if (!this.done && run.tasks.some(elementsLive)) this.timers.elements = setTimeout(() => this.changed(), POLL_MS);
      } catch (err) {
        if (!this.isDisposed) this.onError(err as Error);
      } finally {
        this.fetching = undefined;
        if (this.again && !this.isDisposed) {
          this.again = false;
          this.changed();
        }
      }
    })();
    return this.fetching;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.wait = setTimeout(resolve, ms);
    });
  }
}
