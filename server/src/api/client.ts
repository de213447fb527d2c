import { z } from 'zod';
import { RouteClient, type AnyRoute, type CallInput, type RouteResponse, type RunEvent, isFinalRunEvent, readRunEvents, runEventsPath } from '@cellgraph/schema';
import { NotFoundError, UnavailableError, ValidationError, errorFromApi } from '../errors';

/**
 * The CLI's client of the companion server: the route table's client over Node's fetch.
 * Errors come back as the domain errors the CLI already maps to exit codes (bad input 2,
 * not found 2, anything else 1).
 */
export class ApiClient {
  readonly url: string;
  private readonly token: string;
  private readonly routes: RouteClient;

  constructor(url: string, token: string) {
    const parsed = z.string().url().safeParse(url);
    if (!parsed.success || !/^https?:\/\//.test(url)) throw new ValidationError(`--server must be an http(s) URL, got ${JSON.stringify(url)}`, 'server');
    this.url = url.replace(/\/+$/, '');
    this.token = token;
    this.routes = new RouteClient(async ({ method, path, body }) => {
      const res = await this.fetch(path, { method, headers: body !== undefined ? { 'content-type': 'application/json' } : undefined, body });
      return { status: res.status, text: await res.text() };
    }, errorFromApi);
  }

  /** Calls a route of the table and parses the answer with its schema. */
  call<D extends AnyRoute>(def: D, ...input: CallInput<D>): Promise<RouteResponse<D>> {
    return this.routes.call(def, ...input);
  }

  /** Follows a run's events (Server-Sent Events), reconnecting with Last-Event-ID if the stream drops. */
  async followEvents(runId: string, onEvent: (e: RunEvent) => void): Promise<void> {
    let after = -1;
    for (let attempt = 0; attempt < 20; attempt++) {
      let ended = false;
      try {
        const res = await this.fetch(runEventsPath(runId), { headers: { 'last-event-id': String(after) } });
        if (!res.ok) throw errorFromApi(res.status, undefined, await res.text());
        for await (const { event } of readRunEvents(textChunks(res))) {
          after = event.seq;
          onEvent(event);
          if (isFinalRunEvent(event)) ended = true;
        }
      } catch (err) {
        if (err instanceof ValidationError || err instanceof NotFoundError) throw err;
      }
      if (ended) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async fetch(pathname: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    try {
      return await fetch(`${this.url}${pathname}`, { ...init, headers });
    } catch (err) {
      throw new UnavailableError(`cannot reach the cellgraph server at ${this.url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
  }
}

/** A fetch response body's bytes as text chunks (what the SSE reader takes). */
export async function* textChunks(res: Response): AsyncGenerator<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return;
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield decoder.decode(value, { stream: true });
    }
  } finally {
    // A reader that stops early (a test that has seen enough) closes the connection.
    await reader.cancel().catch(() => undefined);
  }
}
