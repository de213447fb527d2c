import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';
import type { RunEvent } from '@cellgraph/schema';
import type { ZodType, ZodTypeDef } from 'zod';
import type { RequestOptions } from './api';

/** Whether the cellgraph server answers, and the message to show when it does not. */
export type ServerReachability = { reachable: true } | { reachable: false; message: string };

/**
 * The cellgraph server as every panel sees it: one base URL (from the settings, or the
 * jupyter-server-proxy path), requests whose answers are parsed with the schema, and one
 * reachability state, so a server that is down is reported once, the same way everywhere.
 */
export interface ICellgraphServer {
  /** The URL requests go to (ends with `/`). */
  readonly baseUrl: string;
  /** Calls a JSON route; the answer is parsed with `schema`. Throws ServerDownError or ServerError. */
  request<T>(endpoint: string, schema: ZodType<T, ZodTypeDef, unknown>, init?: RequestOptions): Promise<T>;
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
}

export const ICellgraphServer = new Token<ICellgraphServer>(
  '@cellgraph/jupyterlab:ICellgraphServer',
  'The cellgraph server the panels talk to: requests parsed with the schema, and whether it can be reached.'
);
