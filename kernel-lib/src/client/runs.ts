import * as fs from 'node:fs';
import * as path from 'node:path';
import { RouteClient, apiRoutes, type RunDetail, type RunStatus, type Send, type TaskOutputsResponse } from '@cellgraph/schema';
import { decodeValue } from '../codecs/value-codec';
import { type ServerConfig, serverConfigFromEnv } from './server-config';

/**
 * The output types of workflows, by workflow, task and output name. Empty here; the
 * declarations the server generates for a workflow (`await runs.types("iris")` writes them
 * beside the notebook) add an entry, and `runs.latest("iris")` is typed from then on.
 */
export interface WorkflowOutputs {}

/** Workflows with generated declarations. */
export type KnownWorkflow = keyof WorkflowOutputs & string;
/** Task names of a workflow (any string when it has no declarations). */
export type TaskOf<W extends string> = W extends KnownWorkflow ? keyof WorkflowOutputs[W] & string : string;
/** The outputs of a task, by name (unknown values when the workflow has no declarations). */
export type OutputsOf<W extends string, T extends string> = W extends KnownWorkflow
  ? T extends keyof WorkflowOutputs[W]
    ? WorkflowOutputs[W][T]
    : Record<string, unknown>
  : Record<string, unknown>;

/** An answer of the server that is not a success: its status and, when it had one, the API's error code. */
export class CellgraphApiError extends Error {
  override name = 'CellgraphApiError';
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string
  ) {
    super(message);
  }
}

/**
 * Results of runs, back in the notebook (Metaflow's client API is the model):
 *
 * ```ts
 * import { runs } from "@cellgraph/kernel";
 * const run = await runs.latest("iris");
 * const model = await run.task("softmax").output("model");
 * ```
 *
 * Values are decoded with their codecs (Dates, Maps, typed arrays, registered classes come
 * back as such). The server and token come from CELLGRAPH_SERVER and CELLGRAPH_TOKEN unless
 * given to {@link connect}.
 */
export class Runs {
  private client: RouteClient | undefined;

  /** `config` undefined: read from the environment on first use. */
  constructor(private readonly config?: ServerConfig | (() => ServerConfig)) {}

  /** The newest run of a workflow, whatever its status (Metaflow's `latest_run`). */
  async latest<W extends KnownWorkflow | (string & {})>(workflow: W): Promise<Run<W>> {
    return this.newest(workflow, undefined);
  }

  /** The newest run of a workflow that succeeded (Metaflow's `latest_successful_run`). */
  async latestSuccessful<W extends KnownWorkflow | (string & {})>(workflow: W): Promise<Run<W>> {
    return this.newest(workflow, 'succeeded');
  }

  /** A run by id; name its workflow as a type argument (`runs.get<"iris">(id)`) for typed outputs. */
  async get<W extends KnownWorkflow | (string & {}) = string>(runId: string): Promise<Run<W>> {
    return new Run<W>(this, await this.routes().call(apiRoutes.getRun, { params: { id: runId } }));
  }

  /** Runs of a workflow, newest first (at most `limit`, default 20). */
  async list<W extends KnownWorkflow | (string & {})>(workflow: W, options: { limit?: number; status?: RunStatus } = {}): Promise<RunSummaryRow[]> {
    const { runs } = await this.routes().call(apiRoutes.listRuns, { query: { workflow, limit: options.limit ?? 20, status: options.status } });
    return runs.map((r) => ({ id: r.id, workflow: r.workflow, version: r.version, status: r.status, createdAt: r.createdAt, done: r.done, total: r.total }));
  }

  /**
   * Writes the TypeScript declarations of a workflow's outputs (its latest run's version)
   * to `file` (default `cellgraph-types/<workflow>.d.ts` in the current directory) and
   * returns the path. Load it in a later cell with a type-only namespace import, which
   * tslab carries to every later cell: `import type * as irisTypes from "./cellgraph-types/iris"`.
   */
  async types(workflow: string, file?: string): Promise<string> {
    const answer = await this.routes().call(apiRoutes.workflowTypes, { params: { name: workflow }, query: {} });
    const target = path.resolve(file ?? path.join('cellgraph-types', `${workflow}.d.ts`));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, answer.declarations);
    return target;
  }

  /** The route table's client over fetch, with the bearer token. */
  routes(): RouteClient {
    if (this.client !== undefined) return this.client;
    const given = typeof this.config === 'function' ? this.config() : this.config;
    const { url: base, token } = given ?? serverConfigFromEnv();
    const url = base.replace(/\/+$/, '');
    const send: Send = async ({ method, path: pathname, body }) => {
      let res: Response;
      try {
        res = await fetch(`${url}${pathname}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body
        });
      } catch (err) {
        throw new CellgraphApiError(0, undefined, `cannot reach the cellgraph server at ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
      }
      return { status: res.status, text: await res.text() };
    };
    this.client = new RouteClient(send, (status, error, text) => new CellgraphApiError(status, error?.code, error?.message ?? `the server answered ${status}: ${text.slice(0, 200)}`));
    return this.client;
  }

  private async newest<W extends string>(workflow: W, status: RunStatus | undefined): Promise<Run<W>> {
    const [first] = await this.list(workflow, { limit: 1, status });
    if (first === undefined) throw new CellgraphApiError(404, 'not-found', `workflow ${JSON.stringify(workflow)} has no ${status === undefined ? '' : `${status} `}runs`);
    return this.get<W>(first.id);
  }
}

/** A row of {@link Runs.list}. */
export interface RunSummaryRow {
  id: string;
  workflow: string;
  version: string;
  status: RunStatus;
  createdAt: string;
  /** Tasks finished well, of `total`. */
  done: number;
  total: number;
}

/** One run, as it was when fetched (`refresh()` fetches it again). */
export class Run<W extends string = string> {
  readonly id: string;
  readonly workflow: string;
  readonly version: string;
  readonly status: RunStatus;
  readonly params: Record<string, unknown>;
  readonly createdAt: string;
  readonly finishedAt: string | undefined;

  constructor(
    private readonly runs: Runs,
    /** The server's whole answer for the run (`GET /api/v1/runs/:id`). */
    readonly detail: RunDetail
  ) {
    this.id = detail.runId;
    this.workflow = detail.workflow;
    this.version = detail.version;
    this.status = detail.status;
    this.params = detail.params;
    this.createdAt = detail.createdAt;
    this.finishedAt = detail.finishedAt;
  }

  /** The run's tasks, in the workflow's order. */
  get taskNames(): TaskOf<W>[] {
    return this.detail.tasks.map((t) => t.name as TaskOf<W>);
  }

  /** A task of the run; its outputs are fetched when asked for. Throws for a task the run does not have. */
  task<T extends TaskOf<W>>(name: T): Task<W, T> {
    if (!this.detail.tasks.some((t) => t.name === name)) {
      throw new CellgraphApiError(404, 'not-found', `run ${this.id} has no task ${JSON.stringify(name)} (its tasks: ${this.detail.tasks.map((t) => t.name).join(', ')})`);
    }
    return new Task<W, T>(this.runs, this.id, name);
  }

  /** The run as it is now. */
  refresh(): Promise<Run<W>> {
    return this.runs.get<W>(this.id);
  }
}

/** A task of a run: its outputs, decoded with their codecs, and its metrics. */
export class Task<W extends string = string, T extends string = string> {
  private fetched: Promise<TaskOutputsResponse> | undefined;

  constructor(
    private readonly runs: Runs,
    readonly runId: string,
    readonly name: T
  ) {}

  /** One output, decoded. Throws when the task has no such output (not run, failed, or misnamed). */
  async output<O extends keyof OutputsOf<W, T> & string>(name: O): Promise<OutputsOf<W, T>[O]> {
    const answer = await this.fetch();
    const ref = answer.outputs.find((o) => o.name === name);
    if (ref === undefined) {
      const has = answer.outputs.map((o) => o.name);
      throw new CellgraphApiError(
        404,
        'not-found',
        `task ${this.name} of run ${this.runId} (${answer.status}) has no output ${JSON.stringify(name)}${has.length > 0 ? ` (its outputs: ${has.join(', ')})` : ''}`
      );
    }
    return decodeValue(JSON.stringify(ref.value), { path: `${this.name}.${name}` }) as OutputsOf<W, T>[O];
  }

  /** Every output, decoded, by name. */
  async outputs(): Promise<OutputsOf<W, T>> {
    const answer = await this.fetch();
    const out: Record<string, unknown> = {};
    for (const o of answer.outputs) out[o.name] = decodeValue(JSON.stringify(o.value), { path: `${this.name}.${o.name}` });
    return out as OutputsOf<W, T>;
  }

  /** The metrics the task recorded. */
  async metrics(): Promise<TaskOutputsResponse['metrics']> {
    return (await this.fetch()).metrics;
  }

  private fetch(): Promise<TaskOutputsResponse> {
    this.fetched ??= this.runs
      .routes()
      .call(apiRoutes.taskOutputs, { params: { id: this.runId, task: this.name } })
      .catch((err: Error) => {
        this.fetched = undefined; // asked again, it is fetched again
        throw err;
      });
    return this.fetched;
  }
}

/** A client of the server at `config` (instead of CELLGRAPH_SERVER and CELLGRAPH_TOKEN). */
export function connect(config: ServerConfig): Runs {
  return new Runs(config);
}

/** The runs of the server named by CELLGRAPH_SERVER and CELLGRAPH_TOKEN (read on first use). */
export const runs = new Runs();
