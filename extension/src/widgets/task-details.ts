import { Widget } from '@lumino/widgets';
import type { ElementsQuery, RunDetail, TaskElementsResponse, TaskIR, WorkflowIR } from '@cellgraph/schema';
import { elementCountsTitle, formatDuration, runCaption, skipReason } from '../dag/state';
import { button, el } from './dom';
import { ElementsList } from './elements-list';

/** What the details pane can ask for. */
export interface TaskDetailsActions {
  showLogs(task: string): Promise<void>;
  /** A page of a foreach task's elements in the run shown. */
  listElements(task: string, query: ElementsQuery): Promise<TaskElementsResponse>;
  /** One element's logs in the run shown. */
  showElementLogs(task: string, element: number): Promise<void>;
  selectCells(task: string): void;
  /** Puts the cursor at a cell (0-based) and line (1-based), e.g. where a failed task raised its error. */
  jumpTo?(cell: number, line?: number): void;
}

function row(label: string, value: string | HTMLElement, className = ''): HTMLElement {
  const tr = el('tr', className);
  tr.append(el('th', '', label));
  const td = el('td', '');
  td.append(value);
  tr.append(td);
  return tr;
}

function ports(list: { name: string; type: string; from?: string }[]): string {
  return list.length === 0 ? '—' : list.map((p) => `${p.name}: ${p.type}${p.from !== undefined ? ` (from ${p.from})` : ''}`).join('\n');
}

function policyText(task: TaskIR): string {
  const p = task.policy;
  const parts = [`retries ${p.retries}`, p.timeoutSeconds !== undefined ? `timeout ${p.timeoutSeconds} s` : '', p.cache ? 'cached' : 'never cached'];
  const r = p.resources;
  if (r.cpu !== undefined) parts.push(`cpu ${r.cpu}`);
  if (r.memory !== undefined) parts.push(`memory ${r.memory}`);
  if (r.gpu !== undefined) parts.push(`gpu ${r.gpu}`);
  if (p.image !== undefined) parts.push(`image ${p.image}`);
  return parts.filter(Boolean).join(', ');
}

/**
 * The selected task under the DAG: its cells, typed inputs and outputs, parameters and
 * policy, and in a run its state, attempts, why it was skipped, duration, error, and a button for its logs.
 */
export class TaskDetails extends Widget {
  /** The elements list of the foreach task shown, kept across re-renders (filter and page stay). */
  private elements?: { key: string; list: ElementsList };

  constructor(private readonly actions: TaskDetailsActions) {
    super();
    this.addClass('cg-TaskDetails');
    this.hide();
  }

  /** Shows `task` of `ir` (hidden when there is none), with its state in `run` if given. */
  render(ir: WorkflowIR | undefined, taskName: string | undefined, run: RunDetail | undefined): void {
    const task = ir?.tasks.find((t) => t.name === taskName);
    if (task === undefined) {
      this.node.replaceChildren();
      this.hide();
      return;
    }
    this.node.dataset.task = task.name;
    const table = el('table', 'cg-TaskTable');
    const cells = el('a', 'cg-TaskCells', task.cells.map((c) => c + 1).join(', '));
    cells.href = '#';
    cells.onclick = (e) => {
      e.preventDefault();
      this.actions.selectCells(task.name);
    };
    table.append(row('cells', cells), row('inputs', ports(task.inputs)), row('outputs', ports(task.outputs)), row('parameters', task.params.join(', ') || '—'), row('policy', policyText(task)));
    const summary = run?.tasks.find((t) => t.name === task.name);
    const children: HTMLElement[] = [el('h4', 'cg-TaskTitle', task.name), table];
    if (run !== undefined && summary !== undefined) {
      const runTable = el('table', 'cg-TaskTable cg-TaskRun');
      runTable.append(row('state', runCaption(summary) || summary.status, 'cg-TaskState'), row('attempts', String(summary.attempts)));
      const skipped = skipReason(summary);
      if (skipped !== '') runTable.append(row('skipped because', skipped, 'cg-TaskSkipReason'));
      if (summary.durationMs !== undefined) runTable.append(row('duration', el('span', 'cg-Duration', formatDuration(summary.durationMs))));
      if (summary.outputs.length > 0) runTable.append(row('produced', ports(summary.outputs)));
      const metrics = Object.entries(summary.metrics);
      if (metrics.length > 0) runTable.append(row('metrics', metrics.map(([k, v]) => `${k} = ${String(v)}`).join('\n')));
      if (summary.error !== undefined) runTable.append(row('error', el('pre', 'cg-TaskError', summary.error)));
      if (summary.errorAt !== undefined) runTable.append(row('raised at', this.errorLink(summary.errorAt)));
      if (summary.elements !== undefined) runTable.append(row('elements', elementCountsTitle(summary.elements), 'cg-TaskElements'));
      children.push(runTable, button('cg-NodeLogs', 'Logs', () => this.actions.showLogs(task.name), `Logs of ${task.name} in this run`));
      if (task.foreach !== undefined) children.push(this.elementsList(run.runId, task.name).node);
    }
    if (task.foreach === undefined || run === undefined) this.elements = undefined;
    this.node.replaceChildren(...children);
    this.show();
  }

  /** The elements list of `task` in run `runId`, refreshed (the same list while the same task of the same run is shown). */
  private elementsList(runId: string, task: string): ElementsList {
    const key = `${runId}/${task}`;
    if (this.elements?.key !== key) {
      const list = new ElementsList({ page: (query) => this.actions.listElements(task, query), pick: (element) => this.actions.showElementLogs(task, element) });
      this.elements = { key, list };
    }
    void this.elements.list.refresh();
    return this.elements.list;
  }

  /** `cell 4, line 3`, a link to that line in the notebook. */
  private errorLink(at: { cell: number; line?: number }): HTMLElement {
    const link = el('a', 'cg-ErrorAt', `cell ${at.cell + 1}${at.line !== undefined ? `, line ${at.line}` : ''}`);
    link.dataset.cell = String(at.cell);
    if (at.line !== undefined) link.dataset.line = String(at.line);
    link.href = '#';
    link.title = 'Go to the line that raised the error';
    link.onclick = (e) => {
      e.preventDefault();
      this.actions.jumpTo?.(at.cell, at.line);
    };
    return link;
  }
}
