import { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { apiRoutes } from '@cellgraph/schema';
import type { ICellgraphServer } from '../tokens';
import { el } from './dom';

const LIVE_REFRESH_MS = 1000;

/**
 * A run's logs (one task's, every task's, or one element's of a foreach task), attempt by
 * attempt. While an attempt is still running its text grows: the view fetches again each
 * second until nothing is live.
 */
class LogsView extends Widget {
  private timer?: ReturnType<typeof setTimeout>;

  constructor(private readonly server: ICellgraphServer, private readonly runId: string, private readonly task?: string, private readonly element?: number) {
    super();
    this.addClass('cg-Logs');
    if (task !== undefined) this.node.dataset.task = task;
    if (element !== undefined) this.node.dataset.element = String(element);
  }

  protected onAfterAttach(): void {
    void this.load();
  }

  dispose(): void {
    clearTimeout(this.timer);
    super.dispose();
  }

  private async load(): Promise<void> {
    if (this.isDisposed) return;
    try {
      const logs = await this.server.call(apiRoutes.runLogs, { params: { id: this.runId }, query: { task: this.task, element: this.element } });
      if (this.isDisposed) return;
      const children: HTMLElement[] = [];
      for (const t of logs.tasks) {
        const name = t.element === undefined ? t.task : `${t.task}, element ${t.element}`;
        children.push(el('h4', 'cg-LogTask', `${name} (${t.status}${t.cached ? ', cached: nothing ran' : ''})`));
        if (t.attempts.length === 0) children.push(el('div', 'cg-LogEmpty', t.cached ? 'Reused from an earlier run.' : 'No output yet.'));
        for (const a of t.attempts) children.push(el('pre', 'cg-LogText', `attempt ${a.attempt}${a.live ? ' (live)' : ''}\n${a.text || '(no output)'}`));
      }
      this.node.replaceChildren(...children);
      const pre = this.node.querySelector('pre.cg-LogText:last-of-type');
      pre?.scrollTo({ top: pre.scrollHeight });
      if (logs.tasks.some((t) => t.attempts.some((a) => a.live))) this.timer = setTimeout(() => void this.load(), LIVE_REFRESH_MS);
    } catch (err) {
      this.node.replaceChildren(el('div', 'cg-FieldError', (err as Error).message));
    }
  }
}

/** Opens a dialog with a run's logs (a task's, or one element's of a foreach task), live while attempts run. */
export async function showLogs(server: ICellgraphServer, runId: string, task?: string, element?: number): Promise<void> {
  const what = task === undefined ? undefined : element === undefined ? task : `${task}[${element}]`;
  const dialog = new Dialog({
    title: what !== undefined ? `Logs of ${what} in ${runId}` : `Logs of ${runId}`,
    body: new LogsView(server, runId, task, element),
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
  dialog.addClass('cg-LogsDialog');
  try {
    await dialog.launch();
  } finally {
    dialog.dispose();
  }
}
