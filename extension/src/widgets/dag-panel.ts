import { Dialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { DockPanel, Panel, Widget } from '@lumino/widgets';
import { NotebookContent, apiRoutes, type ElementsQuery, type JsonValue, type RunDetail, type TaskElementsResponse, type WorkflowIR } from '@cellgraph/schema';
import { type NotebookOpener, openExecutedNotebook } from '../executed-notebook';
import { DagModel, type Problem } from '../model';
import { isFinished } from '../run-follower';
import type { ICellgraphServer, ICellgraphTargets, ServerReachability } from '../tokens';
import { button, el } from './dom';
import { DagView } from './dag-view';
import { showLogs } from './logs-dialog';
import { PromoteBody } from './promote-dialog';
import { RunParamsBody } from './param-fields';
import { prefilledParams, recall, remember } from '../remembered';
import { runEndMessage } from '../run-notifications';
import { TaskDetails } from './task-details';

/**
 * The notebook's file name. Sent with its folder (notebookDir), the server names the workflow
 * after the path relative to its root (`analysis/stats.ipynb` is `analysis--stats`), so two
 * notebooks of one name in two folders are two workflows.
 */
function notebookName(panel: NotebookPanel): string {
  return panel.context.path.split('/').pop() || 'notebook.ipynb';
}

/** The notebook's folder relative to the Jupyter root, which is the proxied server's work directory. */
function notebookDir(panel: NotebookPanel): string {
  return panel.context.path.split('/').slice(0, -1).join('/');
}

/**
 * The DAG of one notebook, kept current as it is edited (its DagModel compiles it on the
 * cellgraph server a moment after each change). Clicking a problem puts the cursor at its
 * cell and line; clicking a node selects the task's cells and shows its details. "Promote
 * to production" freezes the notebook as a version, runs it (and schedules it), and the
 * run is followed live on the same DAG: node colours per state, durations, attempts,
 * cached tasks, logs per task, cancel, retry and the executed notebook.
 */
export class DagPanel extends Panel {
  readonly model: DagModel;
  readonly view = new DagView();
  private readonly banner = new Widget();
  private readonly problems = new Widget({ node: el('ul', 'cg-Diagnostics') });
  private readonly details: TaskDetails;
  private readonly runBar = el('span', 'cg-RunBar');
  private readonly loading = el('div', 'cg-DagLoading', 'Compiling the notebook…');
  /** The development server: it compiles the DAG as the notebook is edited. */
  private readonly server: ICellgraphServer;
  /** Runs started from this panel: a notification says when each ends. */
  private readonly startedHere = new Set<string>();
  /** Per `<target>:<version hash>`: the promoted version's number, or null for a development run's version. */
  private readonly versionNumbers = new Map<string, number | null>();

  constructor(private readonly notebook: NotebookPanel, private readonly targets: ICellgraphTargets, private readonly opener: NotebookOpener, debounceMs: () => number) {
    super();
    const server = (this.server = targets.development);
    this.id = `cg-dag-${notebook.id}`;
    this.title.label = `DAG: ${notebook.title.label}`;
    this.title.closable = true;
    this.addClass('cg-DagPanel');
    this.model = new DagModel(
      {
        get name() {
          return notebookName(notebook);
        },
        get dir() {
          return notebookDir(notebook);
        },
        toJSON: () => notebook.model?.toJSON() ?? {},
        // The notebook widget's signal exists before its model does (a panel restored with the layout).
        contentChanged: notebook.content.modelContentChanged
      },
      server,
      debounceMs
    );
    this.details = new TaskDetails({
      showLogs: (task) => this.taskLogs(task),
      listElements: (task, query) => this.taskElements(task, query),
      showElementLogs: (task, element) => this.taskLogs(task, element),
      selectCells: (task) => this.selectTaskCells(task),
      jumpTo: (cell, line) => void this.jumpTo(cell, line)
    });

    const toolbar = new Widget();
    toolbar.addClass('cg-DagToolbar');
    const run = el('button', 'cg-RunNotebook jp-mod-styled', 'Run');
    run.title = 'Run the notebook as it is now on the development server (no version is promoted)';
    run.onclick = () => void this.runNotebook();
    // " to production" folds away when the panel is narrow (index.css); the name stays whole for tooltips and screen readers.
    const promote = el('button', 'cg-Promote jp-mod-styled jp-mod-accept', 'Promote');
    promote.append(el('span', 'cg-WideOnly', ' to production'));
    promote.title = 'Promote to production: freeze the notebook as a version and run it';
    promote.setAttribute('aria-label', 'Promote to production');
    promote.onclick = () => void this.promote();
    // Two groups, each kept on one line: what runs the notebook, and how the DAG is viewed.
    const runControls = el('span', 'cg-RunControls');
    runControls.append(run, promote);
    toolbar.node.append(runControls, this.viewControls(), this.runBar);
    this.banner.addClass('cg-ServerDown');
    this.banner.hide();
    const scroller = new Panel();
    scroller.addClass('cg-DagScroller');
    scroller.addWidget(this.view);
    // Until the first compile answers (a few seconds for a cold server): a spinner, not a blank panel.
    scroller.node.append(this.loading);
    this.problems.addClass('cg-Problems');
    for (const w of [toolbar, this.banner, this.problems, scroller, this.details]) this.addWidget(w);

    this.model.graphChanged.connect(this.onGraph, this);
    this.model.runChanged.connect(this.onRun, this);
    this.model.selectionChanged.connect(this.onSelection, this);
    this.view.nodeClicked.connect((_v, node) => {
      if (node.kind !== 'task') return;
      this.model.selectedTask = node.id;
      this.selectTaskCells(node.id);
    });
    server.reachabilityChanged.connect(this.onReachability, this);
    if (server.reachability !== undefined) this.onReachability(server, server.reachability);
    notebook.title.changed.connect(() => (this.title.label = `DAG: ${notebook.title.label}`), this);
    notebook.disposed.connect(() => this.dispose(), this);
    void notebook.context.ready.then(() => this.model.refresh());
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.server.reachabilityChanged.disconnect(this.onReachability, this);
    this.model.dispose();
    super.dispose();
  }

  /** The notebook's path (the layout restorer reopens the panel with it). */
  get notebookPath(): string {
    return this.notebook.context.path;
  }

  /** Selects and centres the task cell `cell` belongs to (compiling first when there is no DAG yet). */
  async showCell(cell: number): Promise<void> {
    if (this.model.ir === undefined) await this.model.refresh();
    const task = this.model.ir?.tasks.find((t) => t.cells.includes(cell));
    if (task === undefined) return;
    this.model.selectedTask = task.name;
    this.view.centreOn(task.name);
  }

  /** Follows a run on this DAG, on the server it runs on. */
  follow(runId: string, on: ICellgraphServer = this.server): void {
    this.model.follow(runId, on);
  }

  private onReachability(_s: ICellgraphServer, state: ServerReachability): void {
    // One banner, whatever failed and however often: the panel stays usable when the server returns.
    if (state.reachable) this.banner.hide();
    else {
      this.banner.node.textContent = state.message;
      this.banner.show();
    }
  }

  /** Fit, zoom in and out, and the parameters' collapse toggle. */
  private viewControls(): HTMLElement {
    const box = el('span', 'cg-ViewControls');
    const params = el('label', 'cg-ToggleParams');
    const check = el('input', '');
    check.type = 'checkbox';
    check.checked = this.model.showParams;
    check.onchange = () => (this.model.showParams = check.checked);
    // The word folds away when the panel is narrow (index.css): the checkbox keeps its tooltip and accessible name.
    params.append(check, el('span', 'cg-WideOnly', ' parameters'));
    params.title = 'Show the parameters and the tasks that read them';
    check.setAttribute('aria-label', 'Show parameters');
    const tool = (cls: string, text: string, title: string, act: () => void) => {
      const b = el('button', `${cls} jp-mod-styled`, text);
      b.title = title;
      b.onclick = act;
      return b;
    };
    box.append(
      tool('cg-Fit', 'Fit', 'Zoom to show the whole DAG', () => this.view.fit()),
      tool('cg-ZoomIn', '+', 'Zoom in', () => this.view.zoomBy(1.25)),
      tool('cg-ZoomOut', '−', 'Zoom out', () => this.view.zoomBy(0.8)),
      params
    );
    return box;
  }

  private onGraph(): void {
    this.loading.remove();
    const layout = this.model.layout;
    if (layout !== undefined) this.view.setGraph(layout, this.model.tasksWithErrors);
    this.showProblems(this.model.problems);
    this.details.render(this.model.ir, this.model.selectedTask, this.model.run);
  }

  private onRun(_m: DagModel, run: RunDetail | undefined): void {
    if (run !== undefined && isFinished(run) && this.startedHere.delete(run.runId)) this.notifyEnd(run);
    this.view.setRun(run === undefined ? undefined : new Map(run.tasks.map((t) => [t.name, t])));
    this.renderRunBar(run);
    this.details.render(this.model.ir, this.model.selectedTask, run);
  }

  private onSelection(_m: DagModel, task: string | undefined): void {
    this.view.setSelected(task);
    this.details.render(this.model.ir, task, this.model.run);
  }

  /** Run id and status, with what can be done to the run now. */
  private renderRunBar(run: RunDetail | undefined): void {
    if (run === undefined) {
      this.runBar.replaceChildren();
      delete this.runBar.dataset.status;
      return;
    }
    const status = el('span', 'cg-RunStatus', run.status);
    status.dataset.status = run.status;
    const done = run.tasks.filter((t) => t.status === 'succeeded' || t.status === 'cached').length;
    const where = this.model.runServer;
    const badge = el('span', `cg-RunWhere cg-target-${where.target}`, where.label);
    badge.title = where.target === 'production' ? `on the production server ${where.label}` : "on this JupyterLab's development server";
    const parts: (HTMLElement | string)[] = [badge, ' run ', el('span', 'cg-RunId', run.runId), ': ', status, ` ${done}/${run.tasks.length}`];
    const cached = run.tasks.filter((t) => t.status === 'cached').length;
    if (cached > 0) parts.push(' ', el('span', 'cg-CachedBadge', `${cached} cached`));
    if (run.durationMs !== undefined) parts.push(' · ', el('span', 'cg-Duration', `${(run.durationMs / 1000).toFixed(1)} s`));
    if (this.model.runProblem !== undefined) parts.push(el('span', 'cg-FieldError', ` (${this.model.runProblem})`));
    const actions: HTMLElement[] = [button('cg-RunLogs', 'Logs', () => showLogs(where, run.runId))];
    // Hidden where the user's role does not allow them (a viewer); the server refuses them anyway.
    const mayRun = where.identity?.can('run') ?? true;
    if (!isFinished(run) && mayRun) actions.push(button('cg-Cancel', 'Cancel', () => this.model.cancelRun()));
    if ((run.status === 'failed' || run.status === 'cancelled') && mayRun) actions.push(...this.retryButtons(run));
    if (isFinished(run)) {
      const open = button('cg-OpenNotebook', 'Executed notebook', async () => void (await openExecutedNotebook(where, this.opener, run.runId)), 'Open the executed notebook of this run');
      // "Executed" folds away when the panel is narrow (index.css).
      open.replaceChildren(el('span', 'cg-WideOnly', 'Executed '), 'notebook');
      actions.push(open);
    }
    actions.push(button('cg-CloseRun', '×', async () => this.model.unfollow(), 'Stop showing this run'));
    // The facts shrink (with an ellipsis, whole in the tooltip) before the actions do, so the actions stay reachable in a narrow panel.
    const info = el('span', 'cg-RunInfo');
    info.append(...parts);
    info.title = info.textContent ?? '';
    this.runBar.dataset.status = run.status;
    this.runBar.replaceChildren(info, ...actions);
  }

  private showProblems(list: readonly Problem[]): void {
    this.problems.node.replaceChildren(
      ...list.map((d) => {
        const li = el('li', `cg-Diagnostic cg-${d.severity}`);
        if (d.cell !== undefined) li.dataset.cell = String(d.cell);
        if (d.line !== undefined) li.dataset.line = String(d.line);
        const where = d.cell !== undefined ? `cell ${d.cell + 1}${d.line !== undefined ? `, line ${d.line}` : ''}${d.task !== undefined ? ` (task ${d.task})` : ''}: ` : '';
        li.textContent = `${where}${d.message}`;
        li.title = d.code !== undefined ? `${d.code}: click to go to the cell` : '';
        li.onclick = () => d.cell !== undefined && void this.jumpTo(d.cell, d.line, d.column);
        return li;
      })
    );
  }

  /** Activates a cell and, given a line, puts the cursor there in edit mode. */
  private async jumpTo(cell: number, line?: number, column?: number): Promise<void> {
    const content = this.notebook.content;
    if (cell < 0 || cell >= content.widgets.length) return;
    content.deselectAll();
    content.activeCellIndex = cell;
    await content.scrollToItem(cell);
    this.notebook.activate();
    if (line === undefined) return;
    content.mode = 'edit';
    const editor = content.activeCell?.editor;
    if (editor) {
      const lines = editor.model.sharedModel.getSource().split('\n');
      const l = Math.min(line - 1, lines.length - 1);
      editor.setCursorPosition({ line: l, column: Math.min((column ?? 1) - 1, lines[l]?.length ?? 0) });
      editor.focus();
    }
  }

  /** Selects every cell of a task (the first becomes active) and shows it. */
  private selectTaskCells(taskName: string): void {
    const task = this.model.ir?.tasks.find((t) => t.name === taskName);
    const content = this.notebook.content;
    if (task === undefined) return;
    const cells = task.cells.filter((c) => c < content.widgets.length);
    if (cells.length === 0) return;
    content.mode = 'command';
    content.deselectAll();
    content.activeCellIndex = cells[0];
    for (const c of cells) content.select(content.widgets[c]);
    void content.scrollToItem(cells[0]);
  }

  private taskLogs(task: string, element?: number): Promise<void> {
    const run = this.model.run;
    return run === undefined ? Promise.resolve() : showLogs(this.model.runServer, run.runId, task, element);
  }

  private taskElements(task: string, query: ElementsQuery): Promise<TaskElementsResponse> {
    const run = this.model.run;
    if (run === undefined) return Promise.reject(new Error('no run is shown'));
    return this.model.runServer.call(apiRoutes.taskElements, { params: { id: run.runId, task }, query });
  }

  /**
   * "Promote to production": the dialog (parameters, target, optional schedule), then the
   * notebook as it is now is frozen as a version on the server and run; the run is followed
   * on this DAG and appears in the runs sidebar at once.
   */
  async promote(): Promise<void> {
    await this.model.refresh();
    const ir = this.model.ir;
    const model = this.notebook.model;
    if (ir === undefined || model === null || this.model.tasksWithErrors.size > 0 || this.model.problems.some((p) => p.severity === 'error')) {
      await showErrorMessage('Promote to production', 'The notebook does not compile: fix the problems listed under the DAG first.');
      return;
    }
    await this.targets.refresh().catch(() => undefined);
    await Promise.all(this.targets.all.map((t) => t.identity?.refresh()));
    const body = new PromoteBody(prefilledParams(ir.name, ir.params), this.targets, recall(ir.name));
    const answer = await showDialog({ title: `Promote ${ir.name}`, body, buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Promote' })] });
    if (!answer.button.accept) return;
    const choice = answer.value;
    if (choice === null || choice instanceof Error) {
      await showErrorMessage('Promote to production', choice ?? 'no values');
      return;
    }
    remember(ir.name, { params: choice.params, target: choice.target, cron: choice.schedule?.cron ?? '', ...(choice.schedule ? { timezone: choice.schedule.timezone } : {}) });
    // The target's own server: a version promoted to production runs and is scheduled there.
    const target = this.targets.get(choice.target) ?? this.server;
    let runId: string | undefined;
    let failure: Error | undefined;
    try {
      const promoted = await target.call(apiRoutes.promote, {
        body: {
          notebook: NotebookContent.parse(model.toJSON()),
          notebookName: notebookName(this.notebook),
          notebookDir: notebookDir(this.notebook),
          run: true,
          params: choice.params,
          // The project picked in the runs sidebar (where roles are per project).
          ...(target.identity?.me !== undefined ? { project: target.identity.project } : {})
        }
      });
      runId = promoted.run?.runId;
      if (runId !== undefined) this.startFollowing(runId, target);
      if (choice.schedule) {
        await target.call(apiRoutes.createSchedule, {
          body: { workflow: promoted.version.workflow, version: promoted.version.version, cron: choice.schedule.cron, timezone: choice.schedule.timezone, params: choice.params }
        });
      }
    } catch (err) {
      failure = err as Error;
    }
    // Once, after the schedule too, so the sidebar's refresh lists both; even when scheduling failed.
    if (runId !== undefined) target.announceRun(runId);
    if (failure !== undefined) await showErrorMessage('Promote to production', failure.message);
  }

  /** The notebook's IR when it compiles now, else undefined after saying why. */
  private async compiledNow(title: string): Promise<WorkflowIR | undefined> {
    await this.model.refresh();
    const ir = this.model.ir;
    if (ir === undefined || this.notebook.model === null || this.model.tasksWithErrors.size > 0 || this.model.problems.some((p) => p.severity === 'error')) {
      await showErrorMessage(title, 'The notebook does not compile: fix the problems listed under the DAG first.');
      return undefined;
    }
    return ir;
  }

  /**
   * "Run": the notebook as it is now, on the development server, with the parameters the
   * dialog asks for (prefilled with the last ones used for this workflow). Nothing is
   * promoted: the run records what it ran, but no version is created. Tasks whose code and
   * inputs are unchanged since an earlier run are served from the cache.
   */
  async runNotebook(options: { params?: Record<string, JsonValue>; ask?: boolean } = {}): Promise<string | undefined> {
    const ir = await this.compiledNow('Run');
    if (ir === undefined) return undefined;
    let params = options.params;
    if (params === undefined || options.ask !== false) {
      const body = new RunParamsBody(params === undefined ? prefilledParams(ir.name, ir.params) : ir.params.map((p) => (p.name in params! ? { ...p, default: params![p.name] } : p)));
      const answer = await showDialog({ title: `Run ${ir.name} on the development server`, body, buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })] });
      if (!answer.button.accept) return undefined;
      if (answer.value === null || answer.value instanceof Error) {
        await showErrorMessage('Run', answer.value ?? 'no values');
        return undefined;
      }
      params = answer.value;
    }
    remember(ir.name, { params });
    const run = await this.server
      .call(apiRoutes.createRun, {
        body: { notebook: NotebookContent.parse(this.notebook.model!.toJSON()), notebookName: notebookName(this.notebook), notebookDir: notebookDir(this.notebook), params }
      })
      .catch(async (err: Error) => void (await showErrorMessage('Run', err.message)));
    if (run === undefined) return undefined;
    this.startFollowing(run.runId, this.server);
    this.server.announceRun(run.runId);
    return run.runId;
  }

  /** Follows a run started here; a notification says when it ends. */
  private startFollowing(runId: string, on: ICellgraphServer): void {
    this.startedHere.add(runId);
    this.model.follow(runId, on);
  }

  /** A JupyterLab notification for the end of a run started here, with a button to show it. */
  private notifyEnd(run: RunDetail): void {
    const where = this.model.runServer;
    const { kind, message } = runEndMessage(run, where.target === 'production' ? where.label : undefined);
    const actions = [{ label: 'Show', caption: 'Show the run on its DAG', callback: () => this.reveal(run.runId, where) }];
    if (run.status === 'succeeded') actions.push({ label: 'Executed notebook', caption: 'Open the executed notebook', callback: () => void openExecutedNotebook(where, this.opener, run.runId).catch((err: Error) => showErrorMessage('Executed notebook', err.message)) });
    Notification.emit(message, kind, { autoClose: run.status === 'succeeded' ? 8000 : false, actions });
  }

  /** Brings this panel to the front, following the run. */
  private reveal(runId: string, on: ICellgraphServer): void {
    if (this.model.run?.runId !== runId) this.model.follow(runId, on);
    // JupyterLab's main area is a dock panel: activating the widget there selects its tab.
    if (this.parent instanceof DockPanel) this.parent.activateWidget(this);
    else this.activate();
  }

  /**
   * What a failed or cancelled run offers. A development run: "Re-run", which runs the
   * notebook as it is now with the same parameters (unchanged upstream tasks come from the
   * cache). A promoted version's run: "Retry version N" (the frozen version, reusing what
   * succeeded), which first says so and, when the notebook has changed since, offers to
   * promote the current notebook instead.
   */
  private retryButtons(run: RunDetail): HTMLElement[] {
    const key = `${this.model.runServer.target}:${run.version}`;
    const number = this.versionNumbers.get(key);
    // Until the server says whether this is a promoted version, no button: the two do different things.
    if (!this.versionNumbers.has(key)) {
      void this.lookUpVersion(run, key);
      return [];
    }
    if (number === null || number === undefined) {
      return [button('cg-Rerun', 'Re-run', async () => void (await this.runNotebook({ params: run.params as Record<string, JsonValue>, ask: false })), 'Run the notebook as it is now, with the same parameters: tasks whose code and inputs did not change are reused from the cache')];
    }
    return [button('cg-Retry', `Retry v${number}`, () => this.retryVersion(run, number), `A new run of version ${number} as promoted: tasks that succeeded are reused`)];
  }

  /** Finds whether a run's version is a promoted one (its number) or a development run's (null); re-renders the run bar. */
  private async lookUpVersion(run: RunDetail, key: string): Promise<void> {
    const server = this.model.runServer;
    const versions = await server.call(apiRoutes.listVersions, { params: { name: run.workflow } }).catch(() => undefined);
    this.versionNumbers.set(key, versions?.versions.find((v) => v.version === run.version)?.number ?? null);
    if (this.model.run?.runId === run.runId) this.renderRunBar(this.model.run);
  }

  private async retryVersion(run: RunDetail, number: number): Promise<void> {
    await this.model.refresh();
    const changed = this.model.ir !== undefined && this.model.ir.name === run.workflow && this.model.ir.version !== run.version;
    if (changed) {
      // Retrying the frozen version would fail the same way if the fix is in the notebook: say so.
      const body = `This retries version ${number} of ${run.workflow} as it was promoted. The notebook has changed since: to run your changes, promote the current notebook.`;
      const buttons = [Dialog.cancelButton(), Dialog.createButton({ label: 'Promote the current notebook…', className: 'cg-PromoteCurrent' }), Dialog.okButton({ label: `Retry v${number}` })];
      const answer = await showDialog({ title: `Retry version ${number}`, body, buttons });
      if (answer.button.label.startsWith('Promote')) return this.promote();
      if (!answer.button.accept) return;
    }
    const retryId = await this.model.retryRun();
    if (retryId !== undefined) this.startedHere.add(retryId);
  }
}
