import type { Clock, TimerHandle } from '@cellgraph/server/dist/scheduler/clock';

/**
 * A clock tests move by hand: timers run in time order as `advance` passes them, with
 * pending promise work settled after each, so a week of cron fires takes milliseconds.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start: Date | string) {
    this.t = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, delayMs), fn });
    return id;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Instants of the timers still pending, earliest first. */
  pending(): Date[] {
    return [...this.timers.values()].map((x) => x.at).sort((a, b) => a - b).map((at) => new Date(at));
  }

  /** Moves time forward by `ms`, running every timer due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(new Date(this.t + ms));
  }

  /** Moves time forward to `when`, running every timer due on the way, in order. */
  async advanceTo(when: Date | string): Promise<void> {
    const target = new Date(when).getTime();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await settle();
    }
    this.t = Math.max(this.t, target);
    await settle();
  }

  /** Jumps to `when` without running timers: the process was not there to run them. */
  jump(when: Date | string): void {
    this.t = new Date(when).getTime();
  }
}

/** Lets queued promise callbacks (in-memory ports) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
