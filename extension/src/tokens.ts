import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';
import type { AnyRoute, CallInput, RouteResponse, RunEvent } from '@cellgraph/schema';
import type { ServerIdentity } from './identity';

/**
 * Where a workflow runs: `development`, the server JupyterLab starts (through
 * jupyter-server-proxy; it stops with JupyterLab), or `production`, a shared server elsewhere
 * reached through the Jupyter server's token-adding proxy (cellgraph_jupyterlab/production.py).
 */
export type TargetName = 'development' | 'production';

/** Whether the cellgraph server answers, and the message to show when it does not. */
export type ServerReachability = { reachable: true } | { reachable: false; message: string };

/**
 * The cellgraph server as every panel sees it: one base URL (from the settings, or the
 * jupyter-server-proxy path), calls of the route table whose answers are parsed with its schemas, and one
 * reachability state, so a server that is down is reported once, the same way everywhere.
 */
export interface ICellgraphServer {
  /** Which target this server is. */
  readonly target: TargetName;
  /** How the UI names it: `dev`, or the production server's host. */
  readonly label: string;
  /** The URL requests go to (ends with `/`). */
  readonly baseUrl: string;
  /** Calls a route of the table (`apiRoutes` in @cellgraph/schema); the answer is parsed with its schema. Throws ServerDownError or ServerError. */
  call<D extends AnyRoute>(def: D, ...input: CallInput<D>): Promise<RouteResponse<D>>;
  /** Follows a run's events from after `afterSeq`; ends with the run. */
  events(runId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<RunEvent>;
  /** Undefined until the first answer (or failure). */
  readonly reachability: ServerReachability | undefined;
  /** Emitted when the server goes from reachable to not, or back. */
  readonly reachabilityChanged: ISignal<ICellgraphServer, ServerReachability>;
  /** Emitted when this JupyterLab started, cancelled or retried a run, so lists refresh at once. */
  readonly runsChanged: ISignal<ICellgraphServer, string>;
  /** Says that a run was started or changed from this JupyterLab (its id). */
  announceRun(runId: string): void;
  /** Who this JupyterLab is there and the project it works in; absent: everything is offered (the server still decides). */
  readonly identity?: ServerIdentity;
}

export const ICellgraphServer = new Token<ICellgraphServer>(
  '@cellgraph/jupyterlab:ICellgraphServer',
  'The cellgraph server the panels talk to: requests parsed with the schema, and whether it can be reached.'
);

/**
 * The servers a workflow can run on: development always, production when one is configured.
 * Promote goes to `preferred` unless the user picks another; the runs sidebar lists runs of `all`.
 */
export interface ICellgraphTargets {
  readonly development: ICellgraphServer;
  /** The production server, when one is configured. */
  readonly production: ICellgraphServer | undefined;
  /** Development first, then production when configured. */
  readonly all: readonly ICellgraphServer[];
  /** Production when configured, development otherwise. */
  readonly preferred: ICellgraphServer;
  /** The server of a target, if it is configured. */
  get(target: TargetName): ICellgraphServer | undefined;
  /** Emitted when production is configured, changed or forgotten. */
  readonly changed: ISignal<ICellgraphTargets, void>;
  /** Emitted when a run was started or changed from this JupyterLab, on any target. */
  readonly runsChanged: ISignal<ICellgraphTargets, { server: ICellgraphServer; runId: string }>;
  /** Reads the production settings from the Jupyter server again. */
  refresh(): Promise<void>;
}

export const ICellgraphTargets = new Token<ICellgraphTargets>(
  '@cellgraph/jupyterlab:ICellgraphTargets',
  'The cellgraph servers a workflow can be promoted to and run on: development (the proxied server) and production when configured.'
);
