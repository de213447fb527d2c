import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Panel, Widget } from '@lumino/widgets';
import { CompileResponse, PromoteResponse, RunDetail, ScheduleView, type WorkflowIR } from '@cellgraph/schema';
import { ServerDownError, ServerError, requestAPI } from '../api';
import { type DagLayout, layoutDag } from '../dag/layout';
import { type TaskState, tasksWithErrors } from '../dag/state';
import { PromoteBody } from './promote-dialog';
import { DagView } from './dag-view';

/**
 * The DAG of one notebook, kept current as it is edited: the notebook's content is
 * compiled by the cellgraph server a moment after the last change (debounced), and the
 * typed DAG or the compiler's diagnostics are shown. Clicking a diagnostic or a node
 * selects the cell it names. When the server cannot be reached, one banner says so.
 */
export class DagPanel extends Panel {
  readonly view = new DagView();
  private readonly banner = new Widget();
  private readonly diagnostics = new Widget({ node: document.createElement('ul') });
  private timer?: number;
  private lastLayout?: DagLayout;
  private lastIr?: WorkflowIR;
  private readonly toolbar = new Widget();
  private readonly runStatus = document.createElement('span');
  private watching?: number;
  private disposedFlag = false;

  constructor(private readonly notebook: NotebookPanel, private readonly server: () => string, private readonly debounceMs: () => number) {
    super();
    this.id = `cg-dag-${notebook.id}`;
    this.title.label = `DAG: ${notebook.title.label}`;
    this.title.closable = true;
    this.addClass('cg-DagPanel');
    this.banner.addClass('cg-ServerDown');
    this.banner.hide();
    this.diagnostics.addClass('cg-Diagnostics');
    this.toolbar.addClass('cg-DagToolbar');
    const promote = document.createElement('button');
    promote.className = 'cg-Promote jp-mod-styled jp-mod-accept';
    promote.textContent = 'Promote to production';
    promote.onclick = () => void this.promote();
    this.runStatus.className = 'cg-RunStatus';
    this.toolbar.node.append(promote, this.runStatus);
    this.addWidget(this.toolbar);
    this.addWidget(this.banner);
    this.addWidget(this.view);
    this.addWidget(this.diagnostics);
    notebook.model?.contentChanged.connect(this.schedule, this);
    this.view.nodeClicked.connect((_v, node) => node.cells.length > 0 && this.selectCell(node.cells[0]));
    notebook.disposed.connect(() => this.dispose());
    void this.refresh();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.disposedFlag = true;
    window.clearTimeout(this.timer);
    window.clearTimeout(this.watching);
    this.notebook.model?.contentChanged.disconnect(this.schedule, this);
    super.dispose();
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.refresh(), this.debounceMs());
  }

  /** Compiles the notebook as it is now (unsaved edits included) and redraws. */
  async refresh(): Promise<void> {
    const model = this.notebook.model;
    if (model === null || this.disposedFlag) return;
    let result: CompileResponse;
    try {
      result = await requestAPI(this.server(), 'api/v1/compile', CompileResponse, {
        method: 'POST',
        json: { notebook: model.toJSON(), notebookName: this.notebook.context.path.split('/').pop() ?? 'notebook.ipynb' }
      });
    } catch (err) {
      if (err instanceof ServerDownError) {
        this.banner.node.textContent = `${err.message}. Start JupyterLab with the cellgraph package installed, or set the server URL in Settings → cellgraph.`;
        this.banner.show();
        return;
      }
      const message = err instanceof ServerError ? `${err.code}: ${err.message}` : (err as Error).message;
      this.showDiagnostics([{ message, severity: 'error' }]);
      return;
    }
    this.banner.hide();
    // A notebook that stops compiling keeps its last DAG, with the tasks at fault marked.
    if (result.ir !== undefined) {
      this.lastLayout = layoutDag(result.ir);
      this.lastIr = result.ir;
    }
    this.view.setLayout(this.lastLayout ?? layoutDag({ tasks: [], edges: [], params: [] }), tasksWithErrors(result.diagnostics));
    this.showDiagnostics(result.diagnostics);
  }

  /**
   * "Promote to production": the dialog (parameters, target, optional schedule), then the
   * notebook as it is now is frozen as a version on the server and run; the run is followed
   * on this DAG.
   */
  async promote(): Promise<void> {
    const ir = this.lastIr;
    const model = this.notebook.model;
    if (ir === undefined || model === null) {
      await showErrorMessage('Promote to production', 'The notebook does not compile yet: see the errors under the DAG.');
      return;
    }
    const body = new PromoteBody(ir.params, this.server(), 'its configured executor');
    const answer = await showDialog({ title: 'Promote to production', body, buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Promote' })] });
    if (!answer.button.accept) return;
    const choice = answer.value;
    if (choice === null || choice instanceof Error) {
      await showErrorMessage('Promote to production', choice ?? 'no values');
      return;
    }
    try {
      const promoted = await requestAPI(this.server(), 'api/v1/workflows/promote', PromoteResponse, {
        method: 'POST',
        json: { notebook: model.toJSON(), notebookName: this.notebook.context.path.split('/').pop() ?? 'notebook.ipynb', run: true, params: choice.params }
      });
      if (choice.schedule) {
        await requestAPI(this.server(), 'api/v1/schedules', ScheduleView, {
          method: 'POST',
          json: { workflow: promoted.version.workflow, version: promoted.version.version, cron: choice.schedule.cron, timezone: choice.schedule.timezone, params: choice.params }
        });
      }
      if (promoted.run) this.watch(promoted.run.runId);
    } catch (err) {
      await showErrorMessage('Promote to production', (err as Error).message);
    }
  }

  /** Follows a run on the DAG: node states, then the run's end (polled each second). */
  watch(runId: string): void {
    window.clearTimeout(this.watching);
    const poll = async () => {
      if (this.disposedFlag) return;
      try {
        const run = await requestAPI(this.server(), `api/v1/runs/${encodeURIComponent(runId)}`, RunDetail);
        this.view.setStates(new Map(run.tasks.map((t) => [t.name, t.status as TaskState])));
        this.runStatus.replaceChildren(
          'run ',
          Object.assign(document.createElement('span'), { className: 'cg-RunId', textContent: run.runId }),
          `: ${run.status}`
        );
        this.runStatus.dataset.status = run.status;
        if (run.status === 'queued' || run.status === 'running') this.watching = window.setTimeout(() => void poll(), 1000);
      } catch (err) {
        this.runStatus.textContent = `run ${runId}: ${(err as Error).message}`;
        this.watching = window.setTimeout(() => void poll(), 3000);
      }
    };
    void poll();
  }

  private showDiagnostics(list: { message: string; severity: string; cell?: number; line?: number; task?: string }[]): void {
    const ul = this.diagnostics.node;
    ul.replaceChildren(
      ...list.map((d) => {
        const li = document.createElement('li');
        li.className = `cg-Diagnostic cg-${d.severity}`;
        if (d.cell !== undefined) li.dataset.cell = String(d.cell);
        li.textContent = `${d.cell !== undefined ? `cell ${d.cell + 1}${d.line !== undefined ? `:${d.line}` : ''}: ` : ''}${d.message}`;
        li.onclick = () => d.cell !== undefined && this.selectCell(d.cell);
        return li;
      })
    );
  }

  private selectCell(index: number): void {
    const content = this.notebook.content;
    if (index < 0 || index >= content.widgets.length) return;
    content.activeCellIndex = index;
    content.deselectAll();
    void content.scrollToItem(index);
    this.notebook.activate();
  }
}
