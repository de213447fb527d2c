/**
 * An ICellgraphServer answering from a script, for the model's unit tests. The real path
 * (the server process behind jupyter-server-proxy, in a real JupyterLab) is what the UI
 * tests in ui-tests/ drive; this stands below them to pin timing-sensitive behaviour.
 */
import { Signal } from '@lumino/signaling';
import { prepareRequest, type AnyRoute, type CallInput, type RouteInput, type RouteResponse, type RunDetail, type RunEvent } from '@cellgraph/schema';
import { ServerDownError } from '../errors';
import type { ICellgraphServer, ServerReachability, TargetName } from '../tokens';

/** A scripted answer: a value, or a function of the call's input (params, query, body), possibly async. */
export type Answer = unknown | ((input: { params?: unknown; query?: unknown; body?: unknown }) => unknown);

export class FakeServer implements ICellgraphServer {
  readonly baseUrl = 'http://127.0.0.1:1/cellgraph/';
  constructor(readonly target: TargetName = 'development', readonly label = 'dev') {}
  readonly reachability: ServerReachability | undefined = undefined;
  readonly reachabilityChanged: Signal<ICellgraphServer, ServerReachability> = new Signal<ICellgraphServer, ServerReachability>(this);
  readonly runsChanged: Signal<ICellgraphServer, string> = new Signal<ICellgraphServer, string>(this);
  readonly calls: string[] = [];
  /** Answers by endpoint (the call's path without its leading `/`, e.g. `api/v1/runs/r-1`); an Error answer is thrown. */
  readonly answers = new Map<string, Answer>();
  /** The event stream's script: events to yield, then how it ends. */
  stream: { events: RunEvent[]; end: 'close' | 'fail' | 'hang' } = { events: [], end: 'fail' };
  streamsOpened = 0;

  announceRun(runId: string): void {
    this.runsChanged.emit(runId);
  }

  async call<D extends AnyRoute>(def: D, ...input: CallInput<D>): Promise<RouteResponse<D>> {
    const given = (input[0] ?? {}) as RouteInput<D>;
    const endpoint = prepareRequest(def, given).path.replace(/^\//, '');
    this.calls.push(endpoint);
    await Promise.resolve();
    const answer = this.answers.get(endpoint);
    const value: unknown = typeof answer === 'function' ? await (answer as (i: unknown) => unknown)(given) : answer;
    if (value instanceof Error) throw value;
    if (value === undefined) throw new ServerDownError(this.baseUrl, `no answer scripted for ${endpoint}`);
    return def.response.parse(value) as RouteResponse<D>;
  }

  async *events(_runId: string, _after: number, signal: AbortSignal): AsyncGenerator<RunEvent> {
    this.streamsOpened++;
    for (const e of this.stream.events) {
      await Promise.resolve();
      yield e;
    }
    if (this.stream.end === 'fail') throw new ServerDownError(this.baseUrl, 'stream refused');
    if (this.stream.end === 'hang') await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
  }
}

const HASH = `sha256:${'a'.repeat(64)}`;

/** A run detail as the server sends it, with each task's status. */
export function runDetail(runId: string, status: RunDetail['status'], tasks: Record<string, RunDetail['tasks'][number]['status']>): RunDetail {
  return {
    runId,
    workflow: 'hello',
    version: HASH,
    status,
    params: {},
    tasks: Object.entries(tasks).map(([name, s]) => ({ name, status: s, attempts: s === 'pending' ? 0 : 1, cached: s === 'cached', outputs: [], metrics: {} })),
    notebookPath: 'hello.ipynb',
    executor: 'local',
    createdAt: '2026-12-01T00:00:00.000Z',
    taskDetails: []
  };
}

export function runEvent(runId: string, seq: number, task: string, status: RunEvent['status']): RunEvent {
  return { seq, runId, time: '2026-12-01T00:00:00.000Z', kind: 'task', task, status };
}
