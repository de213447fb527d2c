/**
 * Paces pod creations to a steady rate (a token bucket refilled continuously, with a burst
 * of one second's worth), so a foreach of thousands of elements does not flood the API
 * server: client-go's QPS/burst limiter, for the one call that comes in floods. What the
 * server still refuses with 429 is retried by the executor's one backoff (retry.ts).
 */
export class CreateThrottle {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    /** Creations per second; Infinity disables pacing. */
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))
  ) {
    if (!(perSecond > 0)) throw new RangeError(`pod creations per second must be positive, got ${perSecond}`);
    this.tokens = Number.isFinite(perSecond) ? Math.max(1, perSecond) : 0;
    this.last = now();
  }

  /** Resolves when the caller may create one pod; callers are served in order. */
  take(): Promise<void> {
    if (!Number.isFinite(this.perSecond)) return Promise.resolve();
    const turn = this.queue.then(() => this.next());
    this.queue = turn;
    return turn;
  }

  private async next(): Promise<void> {
    const burst = Math.max(1, this.perSecond);
    const now = this.now();
    this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) {
      const ms = Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
      await this.wait(ms);
      this.tokens = Math.min(burst, this.tokens + ((this.now() - this.last) / 1000) * this.perSecond);
      this.last = this.now();
    }
    this.tokens -= 1;
  }
}
