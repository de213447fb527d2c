/**
 * One HTTP POST of a JSON document to a webhook, bounded in time: a receiver that accepts
 * the connection and never answers costs at most `timeoutMs`, never a stuck promise.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { WEBHOOK_REFUSED, type WebhookGuard } from './webhook-guard';

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
  /** Refuses destinations the server must not reach (metadata, link-local), checked as the connection is made. */
  guard?: WebhookGuard;
}

/**
 * POSTs `body` to `url`. 2xx is delivered. 408, 429 and 5xx, timeouts and network errors
 * are worth retrying; other statuses (400, 404, 410 ...) mean the receiver refuses this
 * document, and sending it again would get the same answer, as does a destination the
 * guard refuses. Never throws. Sent with node:http rather than fetch: only it lets the
 * guard check the very addresses the connection uses.
 */
export async function postJson(url: string, body: string, options: PostOptions): Promise<AttemptResult> {
  const refused = options.guard?.refusedHost(url);
  if (refused !== undefined) return { ok: false, retryable: false, error: refused };
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal !== undefined ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const res = await post(url, body, { 'content-type': 'application/json', ...options.headers }, signal, options.guard?.lookup);
    if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status };
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    return { ok: false, retryable, statusCode: res.status, error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` };
  } catch (e) {
    if (options.signal?.aborted === true) return { ok: false, retryable: true, aborted: true, error: 'aborted: the server is stopping' };
    if (timeout.aborted) return { ok: false, retryable: true, error: `no answer within ${options.timeoutMs} ms` };
    if ((e as NodeJS.ErrnoException).code === WEBHOOK_REFUSED) return { ok: false, retryable: false, error: (e as Error).message };
    return { ok: false, retryable: true, error: networkMessage(e) };
  }
}

/** One POST; resolves with the status line. The answer's body is not read: a receiver streaming forever must not hold us. */
function post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal, lookup?: LookupFunction): Promise<{ status: number; statusText: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = target.protocol === 'https:' ? https.request : http.request;
    const req = request(target, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal, lookup }, (res) => {
      resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '' });
      res.destroy();
    });
    req.on('error', reject);
    req.end(body);
  });
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
