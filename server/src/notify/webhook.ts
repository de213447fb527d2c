/**
 * One HTTP POST of a JSON document to a webhook, bounded in time: a receiver that accepts
 * the connection and never answers costs at most `timeoutMs`, never a stuck promise.
 */

/** What one attempt came to. `retryable` says whether trying again could help. */
export type AttemptResult =
  | { ok: true; statusCode: number }
  | { ok: false; retryable: boolean; statusCode?: number; error: string; aborted?: boolean };

/** Options of one attempt. */
export interface PostOptions {
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Aborts the attempt from outside (server shutdown); the result then has `aborted`. */
  signal?: AbortSignal;
}

/**
 * POSTs `body` to `url`. 2xx is delivered. 408, 429 and 5xx, timeouts and network errors
 * are worth retrying; other statuses (400, 404, 410 ...) mean the receiver refuses this
 * document, and sending it again would get the same answer. Never throws.
 */
export async function postJson(url: string, body: string, options: PostOptions): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal !== undefined ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body,
      signal,
      redirect: 'manual'
    });
    // The answer's body is not read: a receiver streaming forever must not hold us.
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status };
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    return { ok: false, retryable, statusCode: res.status, error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` };
  } catch (e) {
    if (options.signal?.aborted === true) return { ok: false, retryable: true, aborted: true, error: 'aborted: the server is stopping' };
    if (timeout.aborted) return { ok: false, retryable: true, error: `no answer within ${options.timeoutMs} ms` };
    return { ok: false, retryable: true, error: networkMessage(e) };
  }
}

/**
 * undici hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. Read by shape, not
 * `instanceof`: fetch's errors may come from another realm (test runners, workers).
 */
function networkMessage(e: unknown): string {
  const field = (v: unknown, key: string): string | undefined => {
    const x = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    return typeof x === 'string' ? x : undefined;
  };
  const cause = typeof e === 'object' && e !== null ? (e as { cause?: unknown }).cause : undefined;
  const causeMessage = field(cause, 'message');
  if (causeMessage !== undefined) {
    const code = field(cause, 'code');
    return code !== undefined && !causeMessage.includes(code) ? `${code}: ${causeMessage}` : causeMessage;
  }
  return field(e, 'message') ?? String(e);
}

/** A URL fit for a log line: no query string or credentials (they may carry tokens). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
