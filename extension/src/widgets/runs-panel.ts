import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { listIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { apiRoutes, type Permission, type ListRunsResponse, type ListWorkflowsResponse, type RunDetail, type ScheduleView, type WorkflowVersion } from '@cellgraph/schema';
import { type NotebookOpener, openExecutedNotebook } from '../executed-notebook';
import { RunFollower, isFinished } from '../run-follower';
import { noticeRunEnd } from '../run-notifications';
import type { ICellgraphServer, ICellgraphTargets, ServerReachability } from '../tokens';
import { button, el } from './dom';
import { showLogs } from './logs-dialog';
import { RunParamsBody } from './param-fields';
import { prefilledParams, remember } from '../remembered';
import { progressText } from '../runs/table';
import { formatFire, scheduleSummary } from '../schedules';
import { editSchedule } from './schedule-editor';

/** What the runs panel asks of JupyterLab beyond the server: opening notebooks, showing a run on a DAG. */
export interface RunsPanelHost extends NotebookOpener {
  /** Follows the run (on `server`) on the DAG panel of its workflow's notebook; false when none is open. */
  showOnDag(runId: string, workflow: string, server: ICellgraphServer): boolean;
  /** Opens the runs view of a workflow (table, compare, chart, timeline), with `runId`'s timeline shown. */
  openRuns(workflow: string, server: ICellgraphServer, runId?: string): void;
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

/** A badge naming the target an item is on (`dev`, or the production server's host). */
function where(server: ICellgraphServer): HTMLElement {
  const badge = el('span', `cg-RunWhere cg-target-${server.target}`, server.label);
  badge.title = server.target === 'production' ? `on the production server ${server.label}` : "on this JupyterLab's development server";
  return badge;
}

/** Whether the user may do `permission` on an item of `project` on `server` (hides what their role does not allow). */
function may(server: ICellgraphServer, permission: Permission, project: string | undefined): boolean {
  return server.identity === undefined || server.identity.can(permission, project ?? server.identity.project);
}

/**
 * Who you are at a server that has users (production: your JupyterHub or token identity), the
 * project you work in (a picker: Promote sends there; remembered), and your role in it.
 */
function identityBar(server: ICellgraphServer): HTMLElement | undefined {
  const identity = server.identity;
  const me = identity?.me;
  if (identity === undefined || me === undefined || me.superuser) return undefined;
  const bar = el('div', 'cg-Identity');
  bar.dataset.target = server.target;
  const who = el('span', 'cg-WhoAmI', me.name);
  who.title = me.groups.length > 0 ? `groups: ${me.groups.join(', ')}` : 'no groups';
  bar.append(where(server), ' ', who);
  if (me.projects.length === 0) {
    bar.append(el('span', 'cg-NoProject', ' · no project: ask an admin to add you to one'));
    return bar;
  }
  const picker = el('select', 'cg-Project');
  picker.title = 'The project you work in: Promote sends there';
  for (const p of me.projects) picker.append(new Option(p.project, p.project, false, p.project === identity.project));
  picker.onchange = () => (identity.project = picker.value);
  bar.append(' · project ', picker, ' ', el('span', 'cg-Role', identity.role() ?? ''));
  return bar;
}

/** What one target lists, or why it could not. */
type TargetLists =
  | { server: ICellgraphServer; ok: true; runs: ListRunsResponse['runs']; workflows: ListWorkflowsResponse['workflows']; schedules: ScheduleView[] }
  | { server: ICellgraphServer; ok: false; error: Error };

/**
 * The left-sidebar panel of what runs on the cellgraph servers (development, and production
 * when configured; each item with a badge saying where): recent runs (status,
 * progress, executed notebook, logs, cancel, retry, show on the DAG), promoted workflows
 * with their versions (run one again), and schedules (next fires, pause, resume, delete).
 * Refreshed every few seconds while visible, and at once when this JupyterLab starts a
 * run; one banner when the server cannot be reached.
 */
export class RunsPanel extends Widget {
  private readonly banner = el('div', 'cg-ServerDown');
  private readonly identities = el('div', 'cg-Identities');
  private readonly runs = el('ul', 'cg-Runs');
  private readonly workflows = el('ul', 'cg-Versions');
  private readonly schedules = el('ul', 'cg-Schedules');
  private readonly expanded = new Set<string>();
  private readonly watched = new WeakSet<object>();
  private timer?: ReturnType<typeof setTimeout>;

  /** The development server, whose reachability the banner follows between refreshes. */
  private readonly server: ICellgraphServer;

  constructor(private readonly targets: ICellgraphTargets, private readonly host: RunsPanelHost) {
    super();
    this.id = 'cg-runs-panel';
    this.addClass('cg-RunsPanel');
    this.title.icon = listIcon;
    this.title.caption = 'cellgraph: runs, versions, schedules';
    this.banner.hidden = true;
    this.node.append(this.banner, this.identities, el('h3', '', 'Runs'), this.runs, el('h3', '', 'Workflows'), this.workflows, el('h3', '', 'Schedules'), this.schedules);
    const server = (this.server = targets.development);
    targets.runsChanged.connect(() => this.isVisible && void this.refresh(), this);
    targets.changed.connect(() => this.isVisible && void this.refresh(), this);
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
      const lists = await Promise.all(this.targets.all.map((server) => this.fetch(server)));
      this.identities.replaceChildren(...this.targets.all.flatMap((server) => identityBar(server) ?? []));
      const failed = lists.filter((l): l is Extract<TargetLists, { ok: false }> => !l.ok);
      const fine = lists.filter((l): l is Extract<TargetLists, { ok: true }> => l.ok);
      // Said once, in the panel, for each target that failed: never a silent empty list.
      this.banner.textContent = failed.map((f) => (f.server.reachability?.reachable === false ? f.server.reachability.message : `cellgraph server ${f.server.label}: ${f.error.message}`)).join('\n');
      this.banner.hidden = failed.length === 0;
      if (fine.length === 0) return;
      const runs = fine.flatMap((l) => l.runs.map((r) => ({ r, server: l.server }))).sort((a, b) => Date.parse(b.r.createdAt) - Date.parse(a.r.createdAt));
      const workflows = fine.flatMap((l) => l.workflows.map((w) => ({ w, server: l.server })));
      const schedules = fine.flatMap((l) => l.schedules.map((sc) => ({ sc, server: l.server })));
      this.runs.replaceChildren(...(runs.length > 0 ? runs.slice(0, RUNS_SHOWN).map(({ r, server }) => this.runItem(r, server)) : [el('li', 'cg-Empty', 'No runs yet: promote a notebook from its DAG panel.')]));
      this.workflows.replaceChildren(...(workflows.length > 0 ? await Promise.all(workflows.map(({ w, server }) => this.workflowItem(w, server))) : [el('li', 'cg-Empty', 'Nothing promoted yet.')]));
      this.schedules.replaceChildren(...(schedules.length > 0 ? schedules.map(({ sc, server }) => this.scheduleItem(sc, server, runs.filter((x) => x.server === server && x.r.scheduleId === sc.id).map((x) => x.r))) : [el('li', 'cg-Empty', 'No schedules.')]));
    } finally {
      if (this.isVisible && !this.isDisposed) this.timer = setTimeout(() => void this.refresh(), REFRESH_MS);
    }
  }

  /** One target's runs, workflows and schedules. */
  private async fetch(server: ICellgraphServer): Promise<TargetLists> {
    try {
      // A project picked (here or elsewhere) or a role changed re-renders what is offered.
      if (server.identity !== undefined && !this.watched.has(server.identity)) {
        this.watched.add(server.identity);
        server.identity.changed.connect(() => this.isVisible && void this.refresh(), this);
      }
      const [, runs, workflows, schedules] = await Promise.all([
        server.identity?.refresh(),
        server.call(apiRoutes.listRuns, { query: { limit: RUNS_SHOWN } }),
        server.call(apiRoutes.listWorkflows),
        server.call(apiRoutes.listSchedules)
      ]);
      return { server, ok: true, runs: runs.runs, workflows: workflows.workflows, schedules: schedules.schedules };
    } catch (err) {
      return { server, ok: false, error: err as Error };
    }
  }

  private runItem(r: ListRunsResponse['runs'][number], server: ICellgraphServer): HTMLElement {
    const li = el('li', 'cg-Run');
    li.dataset.runId = r.id;
    li.dataset.target = server.target;
    const status = el('span', `cg-RunStatus cg-status-${r.status}`, r.status);
    const head = el('div', 'cg-RunHead');
    head.append(where(server), ' ', el('span', 'cg-RunWorkflow', r.workflow), ' ', status, ` ${r.done}/${r.total}`);
    // A run the cache served says so (a nightly run 4/4 cached is not a run that recomputed).
    if (r.cached) head.append(' ', el('span', 'cg-CachedBadge', `${r.cached} cached`));
    head.title = `${r.status} ${progressText(r)}${r.trigger !== undefined ? ` · ${r.trigger}` : ''}`;
    const meta = el('div', 'cg-RunMeta');
    meta.append(el('span', 'cg-RunId', r.id), ' · ', el('span', 'cg-Time', ago(r.createdAt)), ` · ${r.executor}`);
    if (r.error !== undefined) meta.append(el('div', 'cg-RunError', r.error));
    const actions = el('div', 'cg-RunActions');
    const finished = isFinished(r);
    if (finished && r.executedNotebook !== undefined) actions.append(button('cg-OpenNotebook', 'Executed notebook', async () => void (await openExecutedNotebook(server, this.host, r.id))));
    actions.append(button('cg-TaskLogs', 'Logs', () => showLogs(server, r.id)));
    actions.append(
      button('cg-ShowOnDag', 'DAG', async () => {
        if (!this.host.showOnDag(r.id, r.workflow, server)) throw new Error(`Open the notebook of ${r.workflow} and its DAG panel (cellgraph: Open DAG) to follow this run there.`);
      }, 'Follow this run on the DAG panel of its notebook')
    );
    if (!finished && may(server, 'run', r.project)) actions.append(button('cg-Cancel', 'Cancel', () => this.runAction(server, () => server.call(apiRoutes.cancelRun, { params: { id: r.id } }))));
    if ((r.status === 'failed' || r.status === 'cancelled') && may(server, 'run', r.project)) actions.append(button('cg-Retry', 'Retry', () => this.runAction(server, () => server.call(apiRoutes.retryRun, { params: { id: r.id }, body: {} }), true), 'A new run of this version: tasks that succeeded are reused'));
    li.append(head, meta, actions);
    return li;
  }

  private async workflowItem(w: ListWorkflowsResponse['workflows'][number], server: ICellgraphServer): Promise<HTMLElement> {
    const li = el('li', 'cg-Version');
    li.dataset.workflow = w.workflow;
    li.dataset.target = server.target;
    const key = `${server.target}:${w.workflow}`;
    const head = el('div', 'cg-VersionHead');
    head.append(where(server), ` ${w.workflow} v${w.latest.number} (${w.versions} version${w.versions === 1 ? '' : 's'}) · ${w.latest.tasks.length} tasks`);
    head.onclick = () => {
      if (this.expanded.has(key)) this.expanded.delete(key);
      else this.expanded.add(key);
      void this.refresh();
    };
    const tools = el('div', 'cg-VersionTools');
    tools.append(
      button('cg-OpenRuns', 'Runs', async () => this.host.openRuns(w.workflow, server), `The runs of ${w.workflow}: compare, chart a metric, timelines`),
      button('cg-NewSchedule', 'Schedule…', async () => void ((await editSchedule(server, w.workflow)) && (await this.refresh())), `Schedule ${w.workflow}: cron, time zone, parameters, policies`)
    );
    li.append(head, tools);
    if (this.expanded.has(key)) {
      const versions = await server.call(apiRoutes.listVersions, { params: { name: w.workflow } });
      const list = el('ul', 'cg-VersionList');
      for (const v of [...versions.versions].reverse()) {
        const item = el('li', 'cg-VersionItem');
        item.dataset.version = String(v.number);
        item.append(
          el('span', '', `v${v.number} `),
          el('span', 'cg-Time', ago(v.promotedAt)),
          ` · ${v.version.slice(0, 19)}… `
        );
        if (may(server, 'run', w.project)) item.append(button('cg-RunVersion', 'Run', () => this.runVersion(server, w.workflow, v), `Run version ${v.number}: asks for its parameters (the last ones used are filled in)`));
        list.append(item);
      }
      li.append(list);
    }
    return li;
  }

  private scheduleItem(s: ScheduleView, server: ICellgraphServer, runs: ListRunsResponse['runs']): HTMLElement {
    const li = el('li', 'cg-Schedule');
    li.dataset.scheduleId = s.id;
    li.dataset.target = server.target;
    const fires = el('ul', 'cg-NextFires');
    fires.append(...s.nextFires.slice(0, 3).map((f) => el('li', 'cg-Time', formatFire(f, s.timezone))));
    // Its last runs (each to its timeline in the runs view), with what the cache served.
    const last = el('ul', 'cg-ScheduleRuns');
    last.append(
      ...runs.slice(0, 3).map((r) => {
        const item = el('li', 'cg-ScheduleRun');
        item.dataset.runId = r.id;
        const link = el('a', 'cg-RunLink', `${ago(r.createdAt)}: ${r.status} ${r.done}/${r.total}`);
        link.href = '#';
        link.onclick = (e) => {
          e.preventDefault();
          this.host.openRuns(s.workflow, server, r.id);
        };
        item.append(link);
        if (r.cached) item.append(' ', el('span', 'cg-CachedBadge', `${r.cached} cached`));
        return item;
      })
    );
    const state = el('span', 'cg-ScheduleState', s.paused ? 'paused' : 'active');
    const head = el('div', 'cg-ScheduleHead');
    head.append(where(server), ` ${s.name !== undefined ? `${s.name} (${s.id})` : s.id}: ${s.workflow}`);
    li.append(head, el('div', 'cg-ScheduleWhen', scheduleSummary(s)), state, fires, last);
    const mayChange = may(server, 'schedule', s.project);
    if (mayChange) li.append(button('cg-EditSchedule', 'Edit', async () => void ((await editSchedule(server, s.workflow, s)) && (await this.refresh())), 'Cron, time zone, parameters, policies, webhook, name'));
    li.append(button('cg-ScheduleRunsLink', 'Runs', async () => this.host.openRuns(s.workflow, server, runs[0]?.id), `The runs of ${s.workflow}`));
    if (mayChange) {
      li.append(
        s.paused
          ? button('cg-Resume', 'Resume', () => this.scheduleAction(() => server.call(apiRoutes.resumeSchedule, { params: { id: s.id } })))
          : button('cg-Pause', 'Pause', () => this.scheduleAction(() => server.call(apiRoutes.pauseSchedule, { params: { id: s.id } })))
      );
    }
    if (may(server, 'delete', s.project)) {
      li.append(
        button('cg-Delete', 'Delete', async () => {
          const ok = await showDialog({ title: 'Delete schedule', body: `Delete the schedule ${s.id}? Runs it started stay.`, buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })] });
          if (!ok.button.accept) return;
          await server.call(apiRoutes.deleteSchedule, { params: { id: s.id } });
          await this.refresh();
        })
      );
    }
    return li;
  }

  /** Runs a promoted version after the parameters dialog (prefilled with the last values used for the workflow). */
  private async runVersion(server: ICellgraphServer, workflow: string, v: WorkflowVersion): Promise<void> {
    const body = new RunParamsBody(prefilledParams(workflow, v.params), `Version ${v.number} of ${workflow}, as promoted ${ago(v.promotedAt)}.`);
    const answer = await showDialog({ title: `Run ${workflow} v${v.number}`, body, buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })] });
    if (!answer.button.accept || answer.value === null) return;
    if (answer.value instanceof Error) throw answer.value;
    const params = answer.value;
    remember(workflow, { params });
    await this.runAction(server, () => server.call(apiRoutes.runVersion, { params: { name: workflow, v: String(v.number) }, body: { params } }), true);
  }

  /**
   * A run action (cancel, retry, run a version): the list refreshes and other panels hear of
   * the run. A run it starts (`notify`) gets a notification when it ends.
   */
  private async runAction(server: ICellgraphServer, call: () => Promise<RunDetail>, notify = false): Promise<void> {
    const run = await call();
    server.announceRun(run.runId);
    if (notify) this.noticeEnd(server, run);
    await this.refresh();
  }

  /** A JupyterLab notification when a run started from this panel ends, with a button to its runs view. */
  private noticeEnd(server: ICellgraphServer, started: RunDetail): void {
    noticeRunEnd(
      (onRun) => new RunFollower(server, started.runId, onRun, () => undefined),
      (message, kind, actions) => void Notification.emit(message, kind, { autoClose: kind === 'success' ? 8000 : false, actions }),
      (run) => [{ label: 'Show', caption: 'Open the run in the runs view', callback: () => this.host.openRuns(run.workflow, server, run.runId) }],
      server.target === 'production' ? server.label : undefined
    );
  }

  private async scheduleAction(call: () => Promise<ScheduleView>): Promise<void> {
    await call();
    await this.refresh();
  }
}
