import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Panel, Widget } from '@lumino/widgets';
import { NotebookContent, apiRoutes, type RunDetail } from '@cellgraph/schema';
import { type NotebookOpener, openExecutedNotebook } from '../executed-notebook';
import { DagModel, type Problem } from '../model';
import { isFinished } from '../run-follower';
import type { ICellgraphServer, ICellgraphTargets, ServerReachability } from '../tokens';
import { button, el } from './dom';
import { DagView } from './dag-view';
import { showLogs } from './logs-dialog';
import { PromoteBody } from './promote-dialog';
import { TaskDetails } from './task-details';

/** The file name the compiler reports against. */
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
    this.details = new TaskDetails({ showLogs: (task) => this.taskLogs(task), selectCells: (task) => this.selectTaskCells(task) });

    const toolbar = new Widget();
    toolbar.addClass('cg-DagToolbar');
    const promote = el('button', 'cg-Promote jp-mod-styled jp-mod-accept', 'Promote to production');
    promote.onclick = () => void this.promote();
    toolbar.node.append(promote, this.viewControls(), this.runBar);
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
    params.append(check, ' parameters');
    params.title = 'Show the parameters and the tasks that read them';
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
    if (!isFinished(run)) actions.push(button('cg-Cancel', 'Cancel', () => this.model.cancelRun()));
    if (run.status === 'failed' || run.status === 'cancelled') actions.push(button('cg-Retry', 'Retry', () => this.model.retryRun(), 'A new run of this version: tasks that succeeded are reused'));
    if (isFinished(run)) actions.push(button('cg-OpenNotebook', 'Executed notebook', async () => void (await openExecutedNotebook(where, this.opener, run.runId))));
    actions.push(button('cg-CloseRun', '×', async () => this.model.unfollow(), 'Stop showing this run'));
    this.runBar.dataset.status = run.status;
    this.runBar.replaceChildren(...parts, ...actions);
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

  private taskLogs(task: string): Promise<void> {
    const run = this.model.run;
    return run === undefined ? Promise.resolve() : showLogs(this.model.runServer, run.runId, task);
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
    const body = new PromoteBody(ir.params, this.targets);
    const answer = await showDialog({ title: `Promote ${ir.name}`, body, buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Promote' })] });
    if (!answer.button.accept) return;
    const choice = answer.value;
    if (choice === null || choice instanceof Error) {
      await showErrorMessage('Promote to production', choice ?? 'no values');
      return;
    }
    // The target's own server: a version promoted to production runs and is scheduled there.
    const target = this.targets.get(choice.target) ?? this.server;
    let runId: string | undefined;
    let failure: Error | undefined;
    try {
      const promoted = await target.call(apiRoutes.promote, {
        body: { notebook: NotebookContent.parse(model.toJSON()), notebookName: notebookName(this.notebook), notebookDir: notebookDir(this.notebook), run: true, params: choice.params }
      });
      runId = promoted.run?.runId;
      if (runId !== undefined) this.model.follow(runId, target);
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
}
