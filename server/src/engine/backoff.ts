/** Exponential backoff between attempts of a failing task. */
export interface BackoffPolicy {
  /** Delay before the second attempt. */
  baseMs: number;
  /** Upper bound for any delay. */
  maxMs: number;
}

/** The default: 1 s, 2 s, 4 s, ... capped at one minute. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 60_000 };

/**
 * Delay before attempt `nextAttempt` (2 = first retry). Jitter in [50%, 100%] of the
 * exponential step keeps many failing tasks from retrying in lockstep.
 */
export function backoffDelay(policy: BackoffPolicy, nextAttempt: number, random: () => number = Math.random): number {
  const exponential = policy.baseMs * 2 ** Math.max(0, nextAttempt - 2);
  const capped = Math.min(policy.maxMs, exponential);
  return Math.round(capped * (0.5 + random() * 0.5));
}
