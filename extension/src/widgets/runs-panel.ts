import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { Contents } from '@jupyterlab/services';
import { listIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { ListRunsResponse, ListSchedulesResponse, ListWorkflowsResponse, Notebook, RunDetail, RunLogsResponse, ScheduleDeleted, ScheduleView } from '@cellgraph/schema';
import { ServerDownError, requestAPI } from '../api';

/** What the runs panel needs from JupyterLab: file saving and opening. */
export interface RunsPanelHost {
  contents: Contents.IManager;
  open(path: string): void;
}

const REFRESH_MS = 3000;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(className: string, text: string, onClick: () => Promise<void>): HTMLButtonElement {
  const b = el('button', `${className} jp-mod-styled`, text);
  b.onclick = () => void onClick().catch((err: Error) => showErrorMessage(text, err.message));
  return b;
}

/**
 * The left-sidebar panel of what runs on the cellgraph server: recent runs (status,
 * executed notebook, logs, cancel, retry), promoted workflows and their latest version,
 * and schedules (next fires, pause, resume, delete). Refreshed every few seconds while
 * it is visible; one banner when the server cannot be reached.
 */
export class RunsPanel extends Widget {
  private readonly banner = el('div', 'cg-ServerDown');
  private readonly runs = el('ul', 'cg-Runs');
  private readonly versions = el('ul', 'cg-Versions');
  private readonly schedules = el('ul', 'cg-Schedules');
  private timer?: number;

  constructor(private readonly server: () => string, private readonly host: RunsPanelHost) {
    super();
    this.id = 'cg-runs-panel';
    this.addClass('cg-RunsPanel');
    this.title.icon = listIcon;
    this.title.caption = 'cellgraph: runs, versions, schedules';
    this.banner.hidden = true;
    this.node.append(this.banner, el('h3', '', 'Runs'), this.runs, el('h3', '', 'Workflows'), this.versions, el('h3', '', 'Schedules'), this.schedules);
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  protected onBeforeHide(): void {
    window.clearTimeout(this.timer);
  }

  dispose(): void {
    window.clearTimeout(this.timer);
    super.dispose();
  }

  async refresh(): Promise<void> {
    window.clearTimeout(this.timer);
    try {
      const [runs, workflows, schedules] = await Promise.all([
        requestAPI(this.server(), 'api/v1/runs', ListRunsResponse),
        requestAPI(this.server(), 'api/v1/workflows', ListWorkflowsResponse),
        requestAPI(this.server(), 'api/v1/schedules', ListSchedulesResponse)
      ]);
      this.banner.hidden = true;
      this.runs.replaceChildren(...runs.runs.slice(0, 20).map((r) => this.runItem(r)));
      this.versions.replaceChildren(...workflows.workflows.map((w) => el('li', 'cg-Version', `${w.workflow} v${w.latest.number} (${w.versions} version${w.versions === 1 ? '' : 's'})`)));
      this.schedules.replaceChildren(...schedules.schedules.map((s) => this.scheduleItem(s)));
    } catch (err) {
      // Said once, in the panel, whatever went wrong: never a silent empty list.
      this.banner.textContent = err instanceof ServerDownError ? err.message : `cellgraph server: ${(err as Error).message}`;
      this.banner.hidden = false;
    } finally {
      if (this.isVisible) this.timer = window.setTimeout(() => void this.refresh(), REFRESH_MS);
    }
  }

  private runItem(r: ListRunsResponse['runs'][number]): HTMLElement {
    const li = el('li', 'cg-Run');
    li.dataset.runId = r.id;
    const head = el('div', 'cg-RunHead');
    head.append(el('span', 'cg-RunWorkflow', r.workflow), ' ', el('span', 'cg-RunStatus', r.status), ` ${r.done}/${r.total} `, el('span', 'cg-RunId', r.id));
    const actions = el('div', 'cg-RunActions');
    const finished = !['queued', 'running'].includes(r.status);
    if (finished) actions.append(button('cg-OpenNotebook', 'Executed notebook', () => this.openExecuted(r.id)));
    actions.append(button('cg-TaskLogs', 'Logs', () => this.showLogs(r.id)));
    if (!finished) actions.append(button('cg-Cancel', 'Cancel', async () => void (await this.post(`api/v1/runs/${r.id}/cancel`, RunDetail))));
    if (r.status === 'failed' || r.status === 'cancelled') actions.append(button('cg-Retry', 'Retry', async () => void (await this.post(`api/v1/runs/${r.id}/retry`, RunDetail, {}))));
    li.append(head, actions);
    return li;
  }

  private scheduleItem(s: ScheduleView): HTMLElement {
    const li = el('li', 'cg-Schedule');
    li.dataset.scheduleId = s.id;
    const fires = el('ul', 'cg-NextFires');
    fires.append(...s.nextFires.slice(0, 3).map((f) => el('li', 'cg-Time', new Date(f).toLocaleString(undefined, { timeZone: s.timezone }))));
    li.append(
      el('div', 'cg-ScheduleHead', `${s.workflow}: ${s.description}`),
      el('span', 'cg-ScheduleState', s.paused ? 'paused' : 'active'),
      fires,
      s.paused
        ? button('cg-Resume', 'Resume', async () => void (await this.post(`api/v1/schedules/${s.id}/resume`, ScheduleView)))
        : button('cg-Pause', 'Pause', async () => void (await this.post(`api/v1/schedules/${s.id}/pause`, ScheduleView))),
      button('cg-Delete', 'Delete', async () => {
        const ok = await showDialog({ title: 'Delete schedule', body: `Delete the schedule ${s.id}? Runs it started stay.`, buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })] });
        if (!ok.button.accept) return;
        await requestAPI(this.server(), `api/v1/schedules/${s.id}`, ScheduleDeleted, { method: 'DELETE' });
        await this.refresh();
      })
    );
    return li;
  }

  private async post<T>(endpoint: string, schema: Parameters<typeof requestAPI<T>>[2], json?: unknown): Promise<T> {
    const result = await requestAPI(this.server(), endpoint, schema, { method: 'POST', json });
    await this.refresh();
    return result;
  }

  /** Saves the run's executed notebook next to the user's files (cellgraph-runs/) and opens it. */
  private async openExecuted(runId: string): Promise<void> {
    const notebook = await requestAPI(this.server(), `api/v1/runs/${runId}/notebook`, Notebook);
    const dir = 'cellgraph-runs';
    await this.host.contents.save(dir, { type: 'directory' }).catch(() => undefined);
    const path = `${dir}/${runId}.ipynb`;
    await this.host.contents.save(path, { type: 'notebook', format: 'json', content: notebook });
    this.host.open(path);
  }

  private async showLogs(runId: string): Promise<void> {
    const logs = await requestAPI(this.server(), `api/v1/runs/${runId}/logs`, RunLogsResponse);
    const body = el('div', 'cg-Logs');
    for (const t of logs.tasks) {
      body.append(el('h4', '', `${t.task} (${t.status}${t.cached ? ', cached' : ''})`));
      for (const a of t.attempts) body.append(el('pre', 'cg-LogText', `attempt ${a.attempt}${a.live ? ' (live)' : ''}\n${a.text}`));
    }
    await showDialog({ title: `Logs of ${runId}`, body: new Widget({ node: body }), buttons: [Dialog.okButton({ label: 'Close' })] });
  }
}
