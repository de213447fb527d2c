/**
 * Time, as the scheduler sees it. Injected so tests drive a fake clock through a week of
 * fires (and DST changes) in milliseconds, and so the real clock is exactly one place.
 */
export interface Clock {
  /** The current instant. */
  now(): Date;
  /** Calls `fn` once after `delayMs` (never more than {@link MAX_TIMER_DELAY_MS}). */
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer; a no-op for one that already ran or was cleared. */
  clearTimer(handle: TimerHandle): void;
}

/** Opaque to the scheduler: whatever the clock needs to cancel a timer. */
export type TimerHandle = unknown;

/** Node clamps longer setTimeout delays to 1 ms; the scheduler re-arms in steps this long. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * The process clock. Timers are unref'd: a pending fire next month must not keep a CLI
 * process alive; the server stays up because its HTTP listener does.
 */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimer: (fn, delayMs) => {
    const t = setTimeout(fn, Math.max(0, Math.min(delayMs, MAX_TIMER_DELAY_MS)));
    t.unref();
    return t;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout)
};
