import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { RouteClient, type AnyRoute, type CallInput, type PreparedRequest, type RouteResponse, type RunEvent, parseApiError, readRunEvents, runEventsPath } from '@cellgraph/schema';
import { z } from 'zod';
import { ServerDownError, ServerError } from './errors';

export { ServerDownError, ServerError } from './errors';

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

/** The route table's request over JupyterLab's connection, its answer as text. */
async function transport(base: string, request: PreparedRequest): Promise<{ status: number; text: string }> {
  // Route paths start with `/api/v1`; the base (the proxy path) ends with `/`.
  const url = URLExt.join(base, request.path.replace(/^\//, ''));
  // JupyterLab's connection sends `content-type: application/json` unless told otherwise; a
  // DELETE (whose body jupyter-server-proxy refuses) says its empty body is text.
  const headers: Record<string, string> = request.body !== undefined ? { 'content-type': 'application/json' } : request.method === 'DELETE' ? { 'content-type': 'text/plain' } : {};
  const response = await send(url, { method: request.method, headers, ...(request.body !== undefined ? { body: request.body } : {}) });
  return { status: response.status, text: await response.text() };
}

/** A non-2xx answer: the server's error, or (the proxy's HTML 502/503 when the server is not running) unreachable. */
function toError(base: string) {
  return (status: number, error: { code: string; message: string; field?: string } | undefined, text: string): Error => {
    if (error !== undefined) return new ServerError(status, error.code, error.message, error.field);
    return status >= 200 && status < 300 ? new ServerError(status, 'bad-response', `not JSON from ${base}`) : new ServerDownError(base, downCause(status, text));
  };
}

/**
 * Why a non-JSON error answer means the server is down: its status, and its text when that is
 * a plain message (cellgraph-jupyterlab's stand-in for a server it could not find answers 503
 * with what to install); the proxy's HTML pages are left out.
 */
function downCause(status: number, text: string): string {
  const plain = text.trim() !== '' && !text.trimStart().startsWith('<');
  return plain ? `HTTP ${status}: ${text.trim().slice(0, 600)}` : `HTTP ${status}`;
}

/**
 * The one way the extension calls the cellgraph server: a route of the table in
 * @cellgraph/schema, its path parameters escaped, its answer parsed with the route's
 * schema, never cast; errors typed.
 */
export function callRoute<D extends AnyRoute>(base: string, def: D, ...input: CallInput<D>): Promise<RouteResponse<D>> {
  return new RouteClient((request) => transport(base, request), toError(base)).call(def, ...input);
}

/**
 * A run's events as the server streams them (Server-Sent Events over a streaming fetch,
 * since EventSource cannot send Jupyter's auth headers). `Accept: text/event-stream` is what
 * makes jupyter-server-proxy pass the stream through as it comes instead of buffering it.
 * Ends when the server ends the stream (the run finished) or `signal` aborts.
 */
export async function* runEvents(base: string, runId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<RunEvent> {
  const url = URLExt.join(base, runEventsPath(runId).replace(/^\//, ''));
  const response = await send(url, { headers: { accept: 'text/event-stream', 'last-event-id': String(afterSeq) }, signal });
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw toError(url)(response.status, parseApiError(text), text);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) throw new ServerError(response.status, 'bad-response', `no event stream from ${url}`);
  try {
    for await (const { event } of readRunEvents(decode(reader))) yield event;
  } finally {
    reader.releaseLock();
  }
}

/** A body reader's bytes as text chunks. */
async function* decode(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield decoder.decode(value, { stream: true });
  }
}

/** The server URL from the settings, or the jupyter-server-proxy path JupyterLab serves it under. */
export function serverBase(configured: string): string {
  if (configured.trim()) return configured.trim();
  return URLExt.join(ServerConnection.makeSettings().baseUrl, 'cellgraph/');
}

/** Where cellgraph-jupyterlab serves the production target (cellgraph_jupyterlab/production.py). */
const PRODUCTION_PATH = 'cellgraph-targets/production';

/**
 * The production target's base URL: the Jupyter server forwards `<this>api/...` to the
 * configured production server with its token, so the browser never holds the token.
 */
export function productionBase(): string {
  return URLExt.join(ServerConnection.makeSettings().baseUrl, `${PRODUCTION_PATH}/`);
}

/** The production settings as the Jupyter server answers them: never the token, only whether there is one. */
export const ProductionSettings = z.object({
  configured: z.boolean(),
  url: z.string().nullable(),
  hasToken: z.boolean(),
  /** `environment`: set by CELLGRAPH_PRODUCTION_URL for the Jupyter server, not changeable here. */
  source: z.enum(['environment', 'file', 'none']),
  /** `jupyterhub`: production calls carry the user's own Hub identity (no token was pasted). */
  identity: z.literal('jupyterhub').optional(),
  /** The JupyterHub user name, when `identity` is `jupyterhub`. */
  hubUser: z.string().nullable().optional()
});
export type ProductionSettings = z.infer<typeof ProductionSettings>;

/** Reads, sets (checked by the Jupyter server against the production server) or forgets the production server. */
export interface ProductionSettingsStore {
  read(): Promise<ProductionSettings>;
  write(url: string, token: string): Promise<ProductionSettings>;
  forget(): Promise<void>;
}

/** The production settings kept by the Jupyter server (its config dir, readable by the user only). */
export const jupyterProductionSettings: ProductionSettingsStore = {
  read: async () => ProductionSettings.parse(JSON.parse(await settingsRequest('GET'))),
  write: async (url, token) => ProductionSettings.parse(JSON.parse(await settingsRequest('PUT', JSON.stringify({ url, token })))),
  forget: async () => void (await settingsRequest('DELETE'))
};

async function settingsRequest(method: 'GET' | 'PUT' | 'DELETE', body?: string): Promise<string> {
  const url = URLExt.join(ServerConnection.makeSettings().baseUrl, PRODUCTION_PATH);
  const response = await send(url, { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
  const text = await response.text();
  if (!response.ok) throw toError(url)(response.status, parseApiError(text), text);
  return text;
}
