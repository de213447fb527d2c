/**
 * The one retry mechanism of the server: task retries (their delay), webhook deliveries,
 * the registry client, the S3 store, the Kubernetes API and the engine's state writes all
 * wait with {@link backoffDelay} and, where they repeat a call, loop with {@link retry}.
 */

/** Exponential backoff: the cap on the wait doubles per retry from `baseMs` up to `maxMs`. */
export interface BackoffPolicy {
  /** Cap on the wait before the first retry. */
  baseMs: number;
  /** Upper bound for any wait. */
  maxMs: number;
}

/**
 * The wait before retry number `retryNumber` (1 = the first retry, i.e. the second attempt):
 * "full jitter" (AWS architecture blog, "Exponential Backoff And Jitter"), a uniform draw in
 * [0, min(maxMs, baseMs * 2^(retryNumber-1))]. Full jitter spreads many clients failing
 * together (tasks of one run, pods hitting one S3 endpoint) across the whole window instead
 * of retrying in lockstep, at the price of an occasional short wait.
 */
export function backoffDelay(policy: BackoffPolicy, retryNumber: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, retryNumber - 1);
  // 2 ** 1100 is Infinity; min() keeps it finite.
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 52));
  return Math.round(cap * random());
}

/** How {@link retry} repeats a call. */
export interface RetryOptions extends BackoffPolicy {
  /** Attempts in all, the first included (>= 1); `Infinity` with `deadlineMs` retries until the time budget is spent. */
  attempts: number;
  /**
   * Time budget in ms from the first attempt made by this call: no retry starts after it,
   * and a wait that would end past it is not begun (the last error is thrown instead).
   * Bounds an outage in time, whatever the number of attempts.
   */
  deadlineMs?: number;
  /** Whether an error is worth another attempt; others are thrown at once. Default: every error. */
  retryable?: (err: unknown) => boolean;
  /** Called before each wait (counters, log lines). */
  onRetry?: (info: { err: unknown; attempt: number; delayMs: number }) => void;
  /**
   * Number of the first attempt made now (default 1). Greater than 1 resumes work whose
   * earlier attempts happened elsewhere (a webhook delivery left pending by a previous
   * process): the backoff for that attempt is waited first, and `attempts` still counts all.
   */
  firstAttempt?: number;
  /** Cuts a wait short: `retry` then rejects with the last error (or the signal's reason). */
  signal?: AbortSignal;
  /** For tests: the random source of the jitter. */
  random?: () => number;
}

/**
 * Calls `fn` until it resolves, an error is not retryable, the attempts or the time budget
 * are spent, or `signal` aborts; rejects with the last error. `fn` gets the attempt number
 * (1-based, counting from `firstAttempt`).
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  const deadline = options.deadlineMs !== undefined ? started + options.deadlineMs : Infinity;
  const first = Math.max(1, options.firstAttempt ?? 1);
  let lastError: unknown = undefined;
  let failed = false;
  for (let attempt = first; attempt <= options.attempts; attempt++) {
    if (attempt > 1) {
      const delayMs = backoffDelay(options, attempt - 1, options.random);
      if (failed && Date.now() + delayMs > deadline) break;
      if (failed) options.onRetry?.({ err: lastError, attempt, delayMs });
      if (!(await sleep(delayMs, options.signal))) throw failed ? lastError : abortReason(options.signal);
    }
    try {
      return await fn(attempt);
    } catch (err) {
      lastError = err;
      failed = true;
      if (options.retryable !== undefined && !options.retryable(err)) throw err;
      if (options.signal?.aborted === true) throw err;
    }
  }
  if (!failed) throw new RangeError(`retry: no attempt left (attempts ${options.attempts}, first attempt ${first})`);
  throw lastError;
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new Error('aborted');
}

/**
 * Resolves true after `ms`, or false as soon as `signal` aborts. The timer keeps the process
 * alive (a CLI waiting out an S3 hiccup must not exit mid-write) unless `unref` is set.
 */
export function sleep(ms: number, signal?: AbortSignal, unref = false): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    if (unref) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
