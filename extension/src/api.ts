import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ApiError, RunEvent } from '@cellgraph/schema';
import type { ZodType, ZodTypeDef } from 'zod';
import { ServerDownError, ServerError } from './errors';
import { takeEventBlocks } from './sse';

export { ServerDownError, ServerError } from './errors';

/** A request's method and JSON body. */
export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  json?: unknown;
}

/**
 * JupyterLab's server connection (its auth and XSRF headers, so the proxied server sits
 * behind Jupyter's login) with the request settings the cellgraph server needs.
 */
async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    // `no-cache` (revalidate every time) rather than JupyterLab's default `no-store`, for
    // which it appends a cache-busting `?<timestamp>` that the server's strict query
    // schemas refuse as an unknown field.
    return await ServerConnection.makeRequest(url, { cache: 'no-cache', ...init }, ServerConnection.makeSettings());
  } catch (err) {
    throw new ServerDownError(url, (err as Error).message);
  }
}

/** Why a non-JSON error answer means the server is down: its status, and its text when that is a plain message. */
function downCause(response: Response, text: string): string {
  const plain = (response.headers.get('content-type') ?? '').startsWith('text/plain') && text.trim() !== '';
  return plain ? `HTTP ${response.status}: ${text.trim().slice(0, 600)}` : `HTTP ${response.status}`;
}

/**
 * The one way the extension calls the cellgraph server's JSON routes: every response
 * parsed with the schema's zod type, never cast; errors typed.
 */
export async function requestAPI<T>(base: string, endpoint: string, schema: ZodType<T, ZodTypeDef, unknown>, init: RequestOptions = {}): Promise<T> {
  const url = URLExt.join(base, endpoint);
  // JupyterLab's connection sends `content-type: application/json` unless told otherwise, and
  // an empty body with that type is malformed JSON to the server: a POST without a body sends
  // `{}`; a DELETE (whose body jupyter-server-proxy refuses) says its empty body is text.
  const method = init.method ?? 'GET';
  const json = init.json ?? (method === 'POST' ? {} : undefined);
  const headers: Record<string, string> = json !== undefined ? { 'content-type': 'application/json' } : method === 'DELETE' ? { 'content-type': 'text/plain' } : {};
  const response = await send(url, { method, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // The proxy answers 502/503 with HTML when the server is not running; cellgraph-jupyterlab's
    // stand-in for a server it could not find answers 503 with what to install, as plain text.
    throw response.ok ? new ServerError(response.status, 'bad-response', `not JSON from ${url}`) : new ServerDownError(url, downCause(response, text));
  }
  if (!response.ok) {
    const parsed = ApiError.safeParse(body);
    if (parsed.success) throw new ServerError(response.status, parsed.data.error.code, parsed.data.error.message, parsed.data.error.field);
    throw new ServerDownError(url, `HTTP ${response.status}`);
  }
  return schema.parse(body);
}

/**
 * A run's events as the server streams them (Server-Sent Events over a streaming fetch,
 * since EventSource cannot send Jupyter's auth headers). `Accept: text/event-stream` is what
 * makes jupyter-server-proxy pass the stream through as it comes instead of buffering it.
 * Ends when the server ends the stream (the run finished) or `signal` aborts.
 */
export async function* runEvents(base: string, runId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<RunEvent> {
  const url = URLExt.join(base, `api/v1/runs/${encodeURIComponent(runId)}/events`);
  const response = await send(url, { headers: { accept: 'text/event-stream', 'last-event-id': String(afterSeq) }, signal });
  if (!response.ok) {
    const parsed = ApiError.safeParse(await response.json().catch(() => undefined));
    if (parsed.success) throw new ServerError(response.status, parsed.data.error.code, parsed.data.error.message, parsed.data.error.field);
    throw new ServerDownError(url, `HTTP ${response.status}`);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) throw new ServerError(response.status, 'bad-response', `no event stream from ${url}`);
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (const block of takeEventBlocks(buffer)) {
        if (block.data !== undefined) yield RunEvent.parse(JSON.parse(block.data));
      }
      const consumed = buffer.lastIndexOf('\n\n');
      if (consumed >= 0) buffer = buffer.slice(consumed + 2);
    }
  } finally {
    reader.releaseLock();
  }
}

/** The server URL from the settings, or the jupyter-server-proxy path JupyterLab serves it under. */
export function serverBase(configured: string): string {
  if (configured.trim()) return configured.trim();
  return URLExt.join(ServerConnection.makeSettings().baseUrl, 'cellgraph/');
}
