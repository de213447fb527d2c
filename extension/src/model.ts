import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';
import { NotebookContent, apiRoutes, type CompileResponse, type Diagnostic, type RunDetail, type WorkflowIR } from '@cellgraph/schema';
import { ServerDownError, ServerError } from './errors';
import { type DagLayout, layoutDag } from './dag/layout';
import { tasksWithErrors } from './dag/state';
import { RunFollower } from './run-follower';
import type { ICellgraphServer } from './tokens';

/** Where a DAG's notebook comes from: its content as it is now, and when that changes. */
export interface NotebookSource {
  /** The file name the compiler reports diagnostics against. */
  readonly name: string;
  /**
   * The notebook's folder relative to the Jupyter root ('' at the root): the server compiles
   * and runs it there, so imports and data files resolve as in the kernel.
   */
  readonly dir?: string;
  /** The nbformat document, unsaved edits included. */
  toJSON(): unknown;
  readonly contentChanged: ISignal<unknown, unknown>;
}

/** A problem to list under the DAG: the compiler's diagnostics, or why compiling failed. */
export type Problem = Pick<Diagnostic, 'message' | 'severity'> & Partial<Pick<Diagnostic, 'cell' | 'line' | 'column' | 'task' | 'code'>>;

/**
 * The state of one notebook's DAG panel, without any DOM: the last IR and its layout, the
 * compiler's problems, the task selected, and the run being followed. The notebook is
 * compiled by the cellgraph server a moment after each change (debounced); a notebook that
 * stops compiling keeps its last DAG, with the tasks at fault marked.
 */
export class DagModel implements IDisposable {
  private currentIr?: WorkflowIR;
  private currentLayout?: DagLayout;
  private paramsShown = true;
  private currentProblems: Problem[] = [];
  private selected?: string;
  private follower?: RunFollower;
  private followedOn?: ICellgraphServer;
  private runError?: string;
  private timer?: ReturnType<typeof setTimeout>;
  private generation = 0;
  private disposed = false;
  private readonly graph = new Signal<this, void>(this);
  private readonly runSignal = new Signal<this, RunDetail | undefined>(this);
  private readonly selection = new Signal<this, string | undefined>(this);
  /** How long the last layout took (ms), also recorded as the `cellgraph:layout` performance measure. */
  lastLayoutMs = 0;

  constructor(private readonly source: NotebookSource, private readonly server: ICellgraphServer, private readonly debounceMs: () => number) {
    source.contentChanged.connect(this.schedule, this);
  }

  /** The IR and layout changed, or the problems did. */
  get graphChanged(): ISignal<this, void> {
    return this.graph;
  }

  /** The followed run changed (undefined: no run followed). */
  get runChanged(): ISignal<this, RunDetail | undefined> {
    return this.runSignal;
  }

  get selectionChanged(): ISignal<this, string | undefined> {
    return this.selection;
  }

  get ir(): WorkflowIR | undefined {
    return this.currentIr;
  }

  get layout(): DagLayout | undefined {
    return this.currentLayout;
  }

  /** Whether the DAG draws the parameters (collapsed: tasks only). */
  get showParams(): boolean {
    return this.paramsShown;
  }

  set showParams(shown: boolean) {
    if (shown === this.paramsShown) return;
    this.paramsShown = shown;
    if (this.currentIr !== undefined) this.currentLayout = layoutDag(this.currentIr, { showParams: shown });
    this.graph.emit();
  }

    get problems(): readonly Problem[] {
    return this.currentProblems;
  }

  /** Tasks named by error diagnostics. */
  get tasksWithErrors(): Set<string> {
    return tasksWithErrors(this.currentProblems);
  }

  get run(): RunDetail | undefined {
    return this.follower?.run;
  }

  /** Why the followed run's detail could not be fetched last time, if it could not. */
  get runProblem(): string | undefined {
    return this.runError;
  }

  get selectedTask(): string | undefined {
    return this.selected;
  }

  set selectedTask(task: string | undefined) {
    if (task === this.selected) return;
    this.selected = task;
    this.selection.emit(task);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    this.follower?.dispose();
    this.source.contentChanged.disconnect(this.schedule, this);
    Signal.clearData(this);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), this.debounceMs());
  }

  /** Compiles the notebook as it is now; an answer to an older request never overwrites a newer one. */
  async refresh(): Promise<void> {
    if (this.disposed) return;
    clearTimeout(this.timer);
    const generation = ++this.generation;
    let result: CompileResponse;
    try {
      result = await this.server.call(apiRoutes.compile, { body: { notebook: NotebookContent.parse(this.source.toJSON()), notebookName: this.source.name, notebookDir: this.source.dir } });
    } catch (err) {
      if (generation !== this.generation || this.disposed) return;
      // A server that is down is the server's banner, not a compile problem.
      if (err instanceof ServerDownError) return;
      const message = err instanceof ServerError ? `${err.code}: ${err.message}` : (err as Error).message;
      this.currentProblems = [{ message, severity: 'error' }];
      this.graph.emit();
      return;
    }
    if (generation !== this.generation || this.disposed) return;
    if (result.ir !== undefined) {
      this.currentIr = result.ir;
      const start = performance.now();
      this.currentLayout = layoutDag(result.ir, { showParams: this.paramsShown });
      const end = performance.now();
      this.lastLayoutMs = end - start;
      measure('cellgraph:layout', start, end);
      if (this.selected !== undefined && !result.ir.tasks.some((t) => t.name === this.selected)) this.selectedTask = undefined;
    }
    this.currentProblems = result.diagnostics.map(inJupyterLab);
    this.graph.emit();
  }

  /** The server the followed run is on (the DAG compiles on development; a run may be on production). */
  get runServer(): ICellgraphServer {
    return this.followedOn ?? this.server;
  }

  /** Follows a run on this DAG (node states, durations, attempts) until it finishes, on the server it runs on. */
  follow(runId: string, on: ICellgraphServer = this.server): void {
    this.follower?.dispose();
    this.runError = undefined;
    this.followedOn = on;
    this.follower = new RunFollower(
      on,
      runId,
      (run) => {
        this.runError = undefined;
        this.runSignal.emit(run);
      },
      (err) => {
        this.runError = err.message;
        this.runSignal.emit(this.follower?.run);
      }
    );
  }

  /** Stops showing a run (back to the plain DAG). */
  unfollow(): void {
    this.follower?.dispose();
    this.follower = undefined;
    this.runSignal.emit(undefined);
  }

  /** Cancels the followed run. */
  async cancelRun(): Promise<void> {
    const run = this.run;
    if (run === undefined) return;
    const server = this.runServer;
    await server.call(apiRoutes.cancelRun, { params: { id: run.runId } });
    server.announceRun(run.runId);
    await this.follower?.refresh();
  }

  /** Starts a new run of the followed run's version (succeeded tasks are reused) and follows it; its id. */
  async retryRun(): Promise<string | undefined> {
    const run = this.run;
    if (run === undefined) return undefined;
    const server = this.runServer;
    const retry = await server.call(apiRoutes.retryRun, { params: { id: run.runId }, body: {} });
    server.announceRun(retry.runId);
    this.follow(retry.runId, server);
    return retry.runId;
  }
}

/**
 * The compiler's words for a file, said for JupyterLab: a notebook without tasks is tagged
 * from the UI, not by editing JSON metadata.
 */
function inJupyterLab(d: Diagnostic): Diagnostic {
  if (d.code !== 'no-tasks') return d;
  return {
    ...d,
    message:
      'No cell starts a task yet. Make one a task with the cellgraph button on the cell\'s toolbar, the cell tags panel in the right sidebar, or "cellgraph: Make this cell a task…" in the command palette; the cells after it belong to it until the next task.'
  };
}

/** Records a span in the browser's performance timeline (visible in its profiler; read by the benchmarks). */
export function measure(name: string, start: number, end: number): void {
  try {
    performance.measure(name, { start, end });
  } catch {
    // Older engines without the options form: the figure is still on the model.
  }
}
