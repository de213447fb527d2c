import { z } from 'zod';
import { ApiError, RunEvent } from '@cellgraph/schema';
import { NotFoundError, UnavailableError, ValidationError, errorFromApi } from '../errors';

/**
 * A typed client of the companion server: every response parsed with the schema the
 * server answers with. Errors come back as the domain errors the CLI already maps to
 * exit codes (bad input 2, not found 2, anything else 1).
 */
export class ApiClient {
  readonly url: string;
  private readonly token: string;

  constructor(url: string, token: string) {
    const parsed = z.string().url().safeParse(url);
    if (!parsed.success || !/^https?:\/\//.test(url)) throw new ValidationError(`--server must be an http(s) URL, got ${JSON.stringify(url)}`, 'server');
    this.url = url.replace(/\/+$/, '');
    this.token = token;
  }

  /** Calls a JSON route and parses the answer. */
  async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', pathname: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, body?: unknown): Promise<T> {
    const res = await this.fetch(pathname, {
      method,
      headers: body !== undefined ? { 'content-type': 'application/json' } : undefined,
      body: body !== undefined ? JSON.stringify(body) : undefined
    });
    return schema.parse(await res.json());
  }

  /** Follows a run's events (Server-Sent Events), reconnecting with Last-Event-ID if the stream drops. */
  async followEvents(runId: string, onEvent: (e: RunEvent) => void): Promise<void> {
    let after = -1;
    for (let attempt = 0; attempt < 20; attempt++) {
      let ended = false;
      try {
        const res = await this.fetch(`/api/v1/runs/${encodeURIComponent(runId)}/events`, { headers: { 'last-event-id': String(after) } });
        const reader = res.body?.getReader();
        if (reader === undefined) return;
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let i: number;
          while ((i = buffer.indexOf('\n\n')) >= 0) {
            const data = /^data: (.*)$/m.exec(buffer.slice(0, i))?.[1];
            buffer = buffer.slice(i + 2);
            if (data === undefined) continue;
            const e = RunEvent.parse(JSON.parse(data));
            after = e.seq;
            onEvent(e);
            if (e.kind === 'run' && (e.status === 'succeeded' || e.status === 'failed' || e.status === 'cancelled')) ended = true;
          }
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
    let res: Response;
    try {
      res = await fetch(`${this.url}${pathname}`, { ...init, headers });
    } catch (err) {
      throw new UnavailableError(`cannot reach the cellgraph server at ${this.url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    if (res.ok) return res;
    const text = await res.text();
    const parsed = ApiError.safeParse(safeJson(text));
    throw errorFromApi(res.status, parsed.success ? parsed.data.error : undefined, text);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
