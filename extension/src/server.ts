import { Signal } from '@lumino/signaling';
import type { AnyRoute, CallInput, RouteResponse, RunEvent } from '@cellgraph/schema';
import { ServerDownError, callRoute, runEvents } from './api';
import { ServerIdentity } from './identity';
import type { ICellgraphServer, ServerReachability, TargetName } from './tokens';

/**
 * The ICellgraphServer every panel shares. It tracks reachability from the answers it
 * gets: the first failure to reach the server flips it to unreachable (panels show one
 * banner), the next answer flips it back.
 */
export class CellgraphServer implements ICellgraphServer {
  private state: ServerReachability | undefined;
  private readonly changed = new Signal<ICellgraphServer, ServerReachability>(this);
  private readonly runs = new Signal<ICellgraphServer, string>(this);
  readonly identity: ServerIdentity = new ServerIdentity(this);

  /** `baseUrl` is read on every request, so a changed setting applies at once. */
  constructor(private readonly base: () => string, readonly target: TargetName = 'development', readonly label = 'dev') {}

  get baseUrl(): string {
    return this.base();
  }

  get reachability(): ServerReachability | undefined {
    return this.state;
  }

  get reachabilityChanged(): Signal<ICellgraphServer, ServerReachability> {
    return this.changed;
  }

  get runsChanged(): Signal<ICellgraphServer, string> {
    return this.runs;
  }

  announceRun(runId: string): void {
    this.runs.emit(runId);
  }

  async call<D extends AnyRoute>(def: D, ...input: CallInput<D>): Promise<RouteResponse<D>> {
    try {
      const answer = await callRoute(this.baseUrl, def, ...input);
      this.set({ reachable: true });
      return answer;
    } catch (err) {
      this.observe(err);
      throw err;
    }
  }

  async *events(runId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<RunEvent> {
    try {
      for await (const event of runEvents(this.baseUrl, runId, afterSeq, signal)) {
        this.set({ reachable: true });
        yield event;
      }
    } catch (err) {
      if (!signal.aborted) this.observe(err);
      throw err;
    }
  }

  private observe(err: unknown): void {
    if (err instanceof ServerDownError) {
      const hint =
        this.target === 'production'
          ? `Check that the production server ${this.label} is up, or change it (cellgraph: Configure the production server…).`
          : 'Start JupyterLab with the cellgraph-jupyterlab package installed (it starts the server), or set the server URL in Settings → cellgraph.';
      this.set({ reachable: false, message: `${err.message}. ${hint}` });
    } else this.set({ reachable: true });
  }

  private set(next: ServerReachability): void {
    const before = this.state;
    this.state = next;
    if (before === undefined ? true : before.reachable !== next.reachable) this.changed.emit(next);
  }
}
