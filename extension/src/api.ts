import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ApiError } from '@cellgraph/schema';
import type { ZodType, ZodTypeDef } from 'zod';

/** The cellgraph server could not be reached at all (not running, proxy down). */
export class ServerDownError extends Error {
  override readonly name = 'ServerDownError';
  constructor(readonly url: string, cause: string) {
    super(`the cellgraph server at ${url} is not reachable (${cause})`);
  }
}

/** The server answered with an error (`{error: {code, message, field?}}`). */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

/**
 * The one way the extension talks to the cellgraph server: JupyterLab's server connection
 * (its auth and XSRF headers, so the proxied server sits behind Jupyter's login), every
 * response parsed with the schema's zod type, never cast.
 */
export async function requestAPI<T>(base: string, endpoint: string, schema: ZodType<T, ZodTypeDef, unknown>, init: { method?: string; json?: unknown } = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(base, endpoint);
  // JupyterLab's connection sends `content-type: application/json` unless told otherwise, and
  // an empty body with that type is malformed JSON to the server: a POST without a body sends
  // `{}`; a DELETE (whose body jupyter-server-proxy refuses) says its empty body is text.
  const method = init.method ?? 'GET';
  const json = init.json ?? (method === 'POST' ? {} : undefined);
  const headers: Record<string, string> = json !== undefined ? { 'content-type': 'application/json' } : method === 'DELETE' ? { 'content-type': 'text/plain' } : {};
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      // `no-cache` (revalidate every time) rather than JupyterLab's default `no-store`, for
      // which it appends a cache-busting `?<timestamp>` that the server's strict query
      // schemas refuse as an unknown field.
      { method, cache: 'no-cache', headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) },
      settings
    );
  } catch (err) {
    throw new ServerDownError(url, (err as Error).message);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // The proxy answers 502/503 with HTML when the server is not running.
    throw response.ok ? new ServerError(response.status, 'bad-response', `not JSON from ${url}`) : new ServerDownError(url, `HTTP ${response.status}`);
  }
  if (!response.ok) {
    const parsed = ApiError.safeParse(body);
    if (parsed.success) throw new ServerError(response.status, parsed.data.error.code, parsed.data.error.message, parsed.data.error.field);
    throw new ServerDownError(url, `HTTP ${response.status}`);
  }
  return schema.parse(body);
}

/** The server URL from the settings, or the jupyter-server-proxy path JupyterLab serves it under. */
export function serverBase(configured: string): string {
  if (configured.trim()) return configured.trim();
  return URLExt.join(ServerConnection.makeSettings().baseUrl, 'cellgraph/');
}
