import { ApiError } from './api';
import { type AnyRoute, type HttpMethod, type RouteInput, type RouteResponse, apiRoutes, routeUrl } from './routes';
import { RunEvent } from './runs';
import { SseReader } from './sse';

/**
 * The one client of the HTTP API, derived from the route table: it builds each request
 * from a route's declaration (path parameters percent-encoded) and parses each answer with
 * the route's zod schema. How bytes travel is the caller's: the CLI uses Node's fetch, the
 * extension JupyterLab's server connection (its auth and XSRF headers).
 */

/** A request ready to send: the path is relative to the server's base URL (starts with `/api/v1`). */
export interface PreparedRequest {
  method: HttpMethod;
  path: string;
  /** JSON text; present for every POST, PUT and PATCH (`{}` when the route takes no body). */
  body?: string;
}

/** What came back: the status and the body's text. */
export interface RawAnswer {
  status: number;
  text: string;
}

/** Sends a prepared request; rejects only when the server cannot be reached. */
export type Send = (request: PreparedRequest) => Promise<RawAnswer>;

/** Turns a non-2xx answer into the caller's error type; `error` is set when the body had the API's error shape. */
export type ToError = (status: number, error: ApiError['error'] | undefined, text: string) => Error;

/** Builds the request for a route call. */
export function prepareRequest<D extends AnyRoute>(def: D, input: RouteInput<D>): PreparedRequest {
  const { params, query, body } = input as { params?: unknown; query?: unknown; body?: unknown };
  const path = routeUrl(def, params, query);
  const sendsBody = def.method === 'POST' || def.method === 'PUT' || def.method === 'PATCH';
  return { method: def.method, path, ...(sendsBody ? { body: JSON.stringify(body ?? {}) } : {}) };
}

/** The API error in an answer's text, when it has the one error shape. */
export function parseApiError(text: string): ApiError['error'] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = ApiError.safeParse(json);
  return parsed.success ? parsed.data.error : undefined;
}

/** Parses a route's answer: its success schema for 2xx, `toError` otherwise. */
export function parseAnswer<D extends AnyRoute>(def: D, answer: RawAnswer, toError: ToError): RouteResponse<D> {
  if (answer.status < 200 || answer.status > 299) throw toError(answer.status, parseApiError(answer.text), answer.text);
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    throw toError(answer.status, undefined, answer.text);
  }
  return def.response.parse(json) as RouteResponse<D>;
}

/** A call's input: optional when the route takes nothing required. */
export type CallInput<D extends AnyRoute> = Record<string, never> extends RouteInput<D> ? [input?: RouteInput<D>] : [input: RouteInput<D>];

/** Calls routes of the table over a transport. */
export class RouteClient {
  constructor(
    private readonly send: Send,
    private readonly toError: ToError
  ) {}

  /** Calls one route and returns its parsed answer. */
  async call<D extends AnyRoute>(def: D, ...input: CallInput<D>): Promise<RouteResponse<D>> {
    return parseAnswer(def, await this.send(prepareRequest(def, (input[0] ?? {}) as RouteInput<D>)), this.toError);
  }
}

/** The path of a run's event stream (the one streaming route). */
export function runEventsPath(runId: string): string {
  return routeUrl(apiRoutes.runEvents, { id: runId });
}

/** Run events from an event stream's decoded text chunks, each parsed with the route's schema. */
export async function* readRunEvents(chunks: AsyncIterable<string>): AsyncGenerator<{ id?: string; event: RunEvent }> {
  const reader = new SseReader();
  for await (const chunk of chunks) {
    for (const m of reader.push(chunk)) yield { ...(m.id !== undefined ? { id: m.id } : {}), event: apiRoutes.runEvents.response.parse(JSON.parse(m.data)) };
  }
}

/** True for the event after which the server ends a run's stream. */
export function isFinalRunEvent(e: RunEvent): boolean {
  return e.kind === 'run' && (e.status === 'succeeded' || e.status === 'failed' || e.status === 'cancelled');
}
