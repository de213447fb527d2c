import { Dialog, showDialog } from '@jupyterlab/apputils';
import { listIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { apiRoutes, type ListRunsResponse, type ListWorkflowsResponse, type RunDetail, type ScheduleView } from '@cellgraph/schema';
import { type NotebookOpener, openExecutedNotebook } from '../executed-notebook';
import { isFinished } from '../run-follower';
import type { ICellgraphServer, ServerReachability } from '../tokens';
import { button, el } from './dom';
import { showLogs } from './logs-dialog';

/** What the runs panel asks of JupyterLab beyond the server: opening notebooks, showing a run on a DAG. */
export interface RunsPanelHost extends NotebookOpener {
  /** Follows the run on the DAG panel of its workflow's notebook; false when none is open. */
  showOnDag(runId: string, workflow: string): boolean;
}

const REFRESH_MS = 3000;
const RUNS_SHOWN = 25;

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/**
 * The left-sidebar panel of what runs on the cellgraph server: recent runs (status,
 * progress, executed notebook, logs, cancel, retry, show on the DAG), promoted workflows
 * with their versions (run one again), and schedules (next fires, pause, resume, delete).
 * Refreshed every few seconds while visible, and at once when this JupyterLab starts a
 * run; one banner when the server cannot be reached.
 */
export class RunsPanel extends Widget {
  private readonly banner = el('div', 'cg-ServerDown');
  private readonly runs = el('ul', 'cg-Runs');
  private readonly workflows = el('ul', 'cg-Versions');
  private readonly schedules = el('ul', 'cg-Schedules');
  private readonly expanded = new Set<string>();
  private timer?: ReturnType<typeof setTimeout>;

  constructor(private readonly server: ICellgraphServer, private readonly host: RunsPanelHost) {
    super();
    this.id = 'cg-runs-panel';
    this.addClass('cg-RunsPanel');
    this.title.icon = listIcon;
    this.title.caption = 'cellgraph: runs, versions, schedules';
    this.banner.hidden = true;
    this.node.append(this.banner, el('h3', '', 'Runs'), this.runs, el('h3', '', 'Workflows'), this.workflows, el('h3', '', 'Schedules'), this.schedules);
    server.runsChanged.connect(() => this.isVisible && void this.refresh(), this);
    server.reachabilityChanged.connect(this.onReachability, this);
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  protected onBeforeHide(): void {
    clearTimeout(this.timer);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.server.reachabilityChanged.disconnect(this.onReachability, this);
    super.dispose();
  }

  private onReachability(_s: ICellgraphServer, state: ServerReachability): void {
    this.banner.hidden = state.reachable;
    if (!state.reachable) this.banner.textContent = state.message;
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    try {
      const [runs, workflows, schedules] = await Promise.all([
        this.server.call(apiRoutes.listRuns, { query: { limit: RUNS_SHOWN } }),
        this.server.call(apiRoutes.listWorkflows),
        this.server.call(apiRoutes.listSchedules)
      ]);
      this.banner.hidden = true;
      this.runs.replaceChildren(...(runs.runs.length > 0 ? runs.runs.map((r) => this.runItem(r)) : [el('li', 'cg-Empty', 'No runs yet: promote a notebook from its DAG panel.')]));
      this.workflows.replaceChildren(...(workflows.workflows.length > 0 ? await Promise.all(workflows.workflows.map((w) => this.workflowItem(w))) : [el('li', 'cg-Empty', 'Nothing promoted yet.')]));
      this.schedules.replaceChildren(...(schedules.schedules.length > 0 ? schedules.schedules.map((s) => this.scheduleItem(s)) : [el('li', 'cg-Empty', 'No schedules.')]));
    } catch (err) {
      // Said once, in the panel, whatever went wrong: never a silent empty list.
      this.banner.textContent = this.server.reachability?.reachable === false ? this.server.reachability.message : `cellgraph server: ${(err as Error).message}`;
      this.banner.hidden = false;
    } finally {
      if (this.isVisible && !this.isDisposed) this.timer = setTimeout(() => void this.refresh(), REFRESH_MS);
    }
  }

  private runItem(r: ListRunsResponse['runs'][number]): HTMLElement {
    const li = el('li', 'cg-Run');
    li.dataset.runId = r.id;
    const status = el('span', `cg-RunStatus cg-status-${r.status}`, r.status);
    const head = el('div', 'cg-RunHead');
    head.append(el('span', 'cg-RunWorkflow', r.workflow), ' ', status, ` ${r.done}/${r.total}`);
    const meta = el('div', 'cg-RunMeta');
    meta.append(el('span', 'cg-RunId', r.id), ' · ', el('span', 'cg-Time', ago(r.createdAt)), ` · ${r.executor}`);
    if (r.error !== undefined) meta.append(el('div', 'cg-RunError', r.error));
    const actions = el('div', 'cg-RunActions');
    const finished = isFinished(r);
    if (finished && r.executedNotebook !== undefined) actions.append(button('cg-OpenNotebook', 'Executed notebook', async () => void (await openExecutedNotebook(this.server, this.host, r.id))));
    actions.append(button('cg-TaskLogs', 'Logs', () => showLogs(this.server, r.id)));
    actions.append(
      button('cg-ShowOnDag', 'DAG', async () => {
        if (!this.host.showOnDag(r.id, r.workflow)) throw new Error(`Open the notebook of ${r.workflow} and its DAG panel (cellgraph: Open DAG) to follow this run there.`);
      }, 'Follow this run on the DAG panel of its notebook')
    );
    if (!finished) actions.append(button('cg-Cancel', 'Cancel', () => this.runAction(() => this.server.call(apiRoutes.cancelRun, { params: { id: r.id } }))));
    if (r.status === 'failed' || r.status === 'cancelled') actions.append(button('cg-Retry', 'Retry', () => this.runAction(() => this.server.call(apiRoutes.retryRun, { params: { id: r.id }, body: {} })), 'A new run of this version: tasks that succeeded are reused'));
    li.append(head, meta, actions);
    return li;
  }

  private async workflowItem(w: ListWorkflowsResponse['workflows'][number]): Promise<HTMLElement> {
    const li = el('li', 'cg-Version');
    li.dataset.workflow = w.workflow;
    const head = el('div', 'cg-VersionHead', `${w.workflow} v${w.latest.number} (${w.versions} version${w.versions === 1 ? '' : 's'}) · ${w.latest.tasks.length} tasks`);
    head.onclick = () => {
      if (this.expanded.has(w.workflow)) this.expanded.delete(w.workflow);
      else this.expanded.add(w.workflow);
      void this.refresh();
    };
    li.append(head);
    if (this.expanded.has(w.workflow)) {
      const versions = await this.server.call(apiRoutes.listVersions, { params: { name: w.workflow } });
      const list = el('ul', 'cg-VersionList');
      for (const v of [...versions.versions].reverse()) {
        const item = el('li', 'cg-VersionItem');
        item.append(
          el('span', '', `v${v.number} `),
          el('span', 'cg-Time', ago(v.promotedAt)),
          ` · ${v.version.slice(0, 19)}… `,
          button('cg-RunVersion', 'Run', () => this.runAction(() => this.server.call(apiRoutes.runVersion, { params: { name: w.workflow, v: String(v.number) }, body: {} })), `Run version ${v.number} with its default parameters`)
        );
        list.append(item);
      }
      li.append(list);
    }
    return li;
  }

  private scheduleItem(s: ScheduleView): HTMLElement {
    const li = el('li', 'cg-Schedule');
    li.dataset.scheduleId = s.id;
    const fires = el('ul', 'cg-NextFires');
    fires.append(...s.nextFires.slice(0, 3).map((f) => el('li', 'cg-Time', new Date(f).toLocaleString(undefined, { timeZone: s.timezone, dateStyle: 'medium', timeStyle: 'short' }))));
    const state = el('span', 'cg-ScheduleState', s.paused ? 'paused' : 'active');
    li.append(
      el('div', 'cg-ScheduleHead', `${s.id}: ${s.workflow}`),
      el('div', 'cg-ScheduleWhen', `${s.cron} · ${s.description} (${s.timezone}) · ${s.concurrencyPolicy}`),
      state,
      fires,
      s.paused
        ? button('cg-Resume', 'Resume', () => this.scheduleAction(() => this.server.call(apiRoutes.resumeSchedule, { params: { id: s.id } })))
        : button('cg-Pause', 'Pause', () => this.scheduleAction(() => this.server.call(apiRoutes.pauseSchedule, { params: { id: s.id } }))),
      button('cg-Delete', 'Delete', async () => {
        const ok = await showDialog({ title: 'Delete schedule', body: `Delete the schedule ${s.id}? Runs it started stay.`, buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })] });
        if (!ok.button.accept) return;
        await this.server.call(apiRoutes.deleteSchedule, { params: { id: s.id } });
        await this.refresh();
      })
    );
    return li;
  }

  /** A run action (cancel, retry, run a version): the list refreshes and other panels hear of the run. */
  private async runAction(call: () => Promise<RunDetail>): Promise<void> {
    const run = await call();
    this.server.announceRun(run.runId);
    await this.refresh();
  }

  private async scheduleAction(call: () => Promise<ScheduleView>): Promise<void> {
    await call();
    await this.refresh();
  }
}
