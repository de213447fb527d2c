import { Widget } from '@lumino/widgets';
import { select } from 'd3-selection';
import { apiRoutes, type RunDetail, type RunListItem } from '@cellgraph/schema';
import { formatDuration } from '../dag/state';
import { type NotebookOpener, openExecutedNotebook } from '../executed-notebook';
import { lineChart } from '../runs/chart';
import { compareRuns } from '../runs/compare';
import { runTimeline } from '../runs/timeline';
import { type RunFilter, filterRuns, formatNumber, metricSeries, numericMetricNames, progressText, recordText } from '../runs/table';
import type { ICellgraphServer } from '../tokens';
import { button, el } from './dom';

const SVG_NS = 'http://www.w3.org/2000/svg';
const RUNS_LISTED = 200;
const CHART_WIDTH = 560;
const CHART_HEIGHT = 200;
const TIMELINE_WIDTH = 560;
const ROW_HEIGHT = 22;
const LABEL_WIDTH = 130;

function svgEl(tag: string, className: string): SVGElement {
  const e = document.createElementNS(SVG_NS, tag);
  e.setAttribute('class', className);
  return e;
}

function select_(className: string, options: [string, string][], onChange: () => void): HTMLSelectElement {
  const s = el('select', className);
  for (const [value, text] of options) s.append(new Option(text, value));
  s.onchange = onChange;
  return s;
}

/**
 * The runs of one workflow on one server, in the main area: a table (status, version,
 * trigger, parameters, duration, cached count, metrics) with a status and trigger filter and
 * a search box; two runs picked side by side (parameters, metrics, each task's status and
 * duration, differences marked); a metric over runs (d3 line chart); and a run's timeline
 * (Gantt of each task's queued, running, retrying and cached spans).
 */
export class RunsView extends Widget {
  private runs: RunListItem[] = [];
  private versions = new Map<string, number>();
  private readonly picked = new Set<string>();
  private readonly status = select_('cg-FilterStatus', [['', 'any status'], ...['succeeded', 'failed', 'running', 'queued', 'cancelled'].map((s): [string, string] => [s, s])], () => this.renderTable());
  private readonly trigger = select_('cg-FilterTrigger', [['', 'any trigger'], ['manual', 'manual'], ['schedule', 'schedule'], ['retry', 'retry']], () => this.renderTable());
  private readonly search = el('input', 'cg-RunSearch');
  private readonly compareButton: HTMLButtonElement;
  private readonly table = el('table', 'cg-RunsTable');
  private readonly compare = el('section', 'cg-CompareView');
  private readonly metric = select_('cg-MetricSelect', [], () => this.renderChart());
  private readonly chart = svgEl('svg', 'cg-MetricChart') as SVGSVGElement;
  private readonly timeline = el('section', 'cg-TimelineView');
  private readonly problem = el('div', 'cg-FieldError');

  constructor(readonly server: ICellgraphServer, readonly workflow: string, private readonly opener: NotebookOpener) {
    super();
    this.id = `cg-runs-${server.target}-${workflow}`;
    this.addClass('cg-RunsView');
    this.title.label = `Runs: ${workflow}`;
    this.title.closable = true;
    this.search.type = 'search';
    this.search.placeholder = 'search id, version, params, metrics';
    this.search.oninput = () => this.renderTable();
    this.compareButton = button('cg-CompareRuns', 'Compare', () => this.showComparison(), 'Pick two runs in the table to see them side by side');
    this.compareButton.disabled = true;
    const head = el('div', 'cg-RunsViewHead');
    const badge = el('span', `cg-RunWhere cg-target-${server.target}`, server.label);
    head.append(el('h2', '', `Runs of ${workflow}`), badge, button('cg-Refresh', 'Refresh', () => this.refresh()));
    const filters = el('div', 'cg-RunFilters');
    filters.append(this.status, this.trigger, this.search, this.compareButton);
    const chartBox = el('section', 'cg-ChartView');
    chartBox.append(el('h3', '', 'A metric over runs'), this.metric, this.chart);
    this.node.append(head, this.problem, filters, this.table, this.compare, chartBox, this.timeline);
    server.runsChanged.connect(this.onRunsChanged, this);
  }

  dispose(): void {
    this.server.runsChanged.disconnect(this.onRunsChanged, this);
    super.dispose();
  }

  private onRunsChanged(): void {
    if (this.isVisible) void this.refresh();
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  /** Reads the workflow's runs and versions again and redraws. */
  async refresh(): Promise<void> {
    try {
      const [list, versions] = await Promise.all([
        this.server.call(apiRoutes.listRuns, { query: { workflow: this.workflow, limit: RUNS_LISTED } }),
        this.server.call(apiRoutes.listVersions, { params: { name: this.workflow } }).catch(() => ({ versions: [] as { version: string; number: number }[] }))
      ]);
      this.runs = list.runs;
      this.versions = new Map(versions.versions.map((v) => [v.version, v.number]));
      this.problem.textContent = '';
    } catch (err) {
      this.problem.textContent = `cellgraph server ${this.server.label}: ${(err as Error).message}`;
    }
    for (const id of [...this.picked]) if (!this.runs.some((r) => r.id === id)) this.picked.delete(id);
    this.renderTable();
    this.renderMetricChoices();
  }

  /** Ticks a run's box in the table, as a click would (also what tests and links use). */
  pick(runId: string, on = true): void {
    if (on) this.picked.add(runId);
    else this.picked.delete(runId);
    this.renderTable();
  }

  private get filter(): RunFilter {
    return { status: this.status.value, trigger: this.trigger.value, search: this.search.value };
  }

  private versionText(hash: string): string {
    const n = this.versions.get(hash);
    return n !== undefined ? `v${n}` : `${hash.slice(7, 15)}…`;
  }

  private renderTable(): void {
    const shown = filterRuns(this.runs, this.filter, this.versions);
    const head = el('tr', '');
    for (const h of ['', 'run', 'status', 'version', 'trigger', 'params', 'duration', 'tasks', 'metrics', '']) head.append(el('th', '', h));
    const rows = shown.map((r) => this.row(r));
    const thead = el('thead', '');
    thead.append(head);
    const tbody = el('tbody', '');
    tbody.append(...(rows.length > 0 ? rows : [this.emptyRow()]));
    this.table.replaceChildren(thead, tbody);
    this.compareButton.disabled = this.picked.size !== 2;
    this.compareButton.textContent = this.picked.size === 2 ? 'Compare the 2 picked runs' : `Compare (pick 2, ${this.picked.size} picked)`;
  }

  private emptyRow(): HTMLElement {
    const tr = el('tr', 'cg-Empty');
    const td = el('td', '', this.runs.length === 0 ? 'No runs of this workflow yet.' : 'No run matches the filter.');
    td.colSpan = 10;
    tr.append(td);
    return tr;
  }

  private row(r: RunListItem): HTMLElement {
    const tr = el('tr', 'cg-RunRow');
    tr.dataset.runId = r.id;
    tr.dataset.status = r.status;
    const pick = el('input', 'cg-Pick');
    pick.type = 'checkbox';
    pick.checked = this.picked.has(r.id);
    pick.title = 'Pick for comparison';
    pick.onchange = () => this.pick(r.id, pick.checked);
    const cell = (className: string, content: string | HTMLElement, title?: string) => {
      const td = el('td', className);
      td.append(content);
      if (title !== undefined) td.title = title;
      return td;
    };
    const progress = el('span', 'cg-Progress', `${r.done}/${r.total}`);
    const tasks = el('span', '');
    tasks.append(progress);
    if (r.cached) tasks.append(' ', el('span', 'cg-CachedBadge', `${r.cached} cached`));
    const params = recordText(r.params);
    const metrics = recordText(r.metrics);
    const actions = el('td', 'cg-RunRowActions');
    actions.append(button('cg-ShowTimeline', 'Timeline', () => this.showTimeline(r.id), 'The Gantt chart of this run: each task queued, running, retried or cached'));
    if (r.executedNotebook !== undefined) actions.append(button('cg-OpenNotebook', 'Notebook', async () => void (await openExecutedNotebook(this.server, this.opener, r.id)), 'Open the executed notebook of this run'));
    tr.append(
      cell('', pick),
      cell('cg-RunId', r.id),
      cell(`cg-RunStatus cg-status-${r.status}`, r.status, r.error),
      cell('cg-RunVersion', this.versionText(r.version), r.version),
      cell('cg-RunTrigger', r.trigger === 'schedule' && r.scheduleId ? `schedule ${r.scheduleId}` : (r.trigger ?? 'manual'), r.retryOf !== undefined ? `retry of ${r.retryOf}` : undefined),
      cell('cg-RunParams', params, params),
      cell('cg-Duration', r.durationMs !== undefined ? formatDuration(r.durationMs) : '…'),
      cell('cg-RunTasks', tasks, progressText({ done: r.done, total: r.total, cached: r.cached })),
      cell('cg-RunMetrics', metrics, metrics),
      actions
    );
    return tr;
  }

  /** The two picked runs side by side. */
  private async showComparison(): Promise<void> {
    const [a, b] = [...this.picked]
      .map((id) => this.runs.find((r) => r.id === id) as RunListItem)
      .sort((x, y) => Date.parse(x.createdAt) - Date.parse(y.createdAt));
    const [da, db] = await Promise.all([a, b].map((r) => this.server.call(apiRoutes.getRun, { params: { id: r.id } })));
    const table = el('table', 'cg-CompareTable');
    const head = el('tr', '');
    head.append(el('th', '', ''), el('th', 'cg-CompareA', da.runId), el('th', 'cg-CompareB', db.runId));
    table.append(head);
    let section = '';
    for (const row of compareRuns(da, db)) {
      if (row.section !== section) {
        section = row.section;
        const tr = el('tr', 'cg-CompareSection');
        const th = el('th', '', { run: 'run', param: 'parameters', metric: 'metrics', task: 'tasks' }[row.section]);
        th.colSpan = 3;
        tr.append(th);
        table.append(tr);
      }
      const tr = el('tr', `cg-CompareRow${row.differs ? ' cg-differs' : ''}`);
      tr.dataset.section = row.section;
      tr.dataset.key = row.key;
      tr.append(el('th', '', row.key), el('td', row.a === 'cached' ? 'cg-CachedBadge' : '', row.a), el('td', row.b === 'cached' ? 'cg-CachedBadge' : '', row.b));
      table.append(tr);
    }
    this.compare.replaceChildren(el('h3', '', 'Two runs side by side'), table);
  }

  private renderMetricChoices(): void {
    const names = numericMetricNames(this.runs);
    const current = this.metric.value;
    this.metric.replaceChildren(...(names.length > 0 ? names.map((n) => new Option(n, n)) : [new Option('no numeric metric logged', '')]));
    if (names.includes(current)) this.metric.value = current;
    this.renderChart();
  }

  /** The chosen metric of every run that logged it, oldest left (d3 join of points). */
  private renderChart(): void {
    const series = this.metric.value === '' ? [] : metricSeries(this.runs, this.metric.value);
    const { points, path, ticks } = lineChart(series, CHART_WIDTH, CHART_HEIGHT);
    const svg = select(this.chart).attr('width', CHART_WIDTH).attr('height', CHART_HEIGHT).attr('data-points', points.length);
    svg.selectAll('*').remove();
    const axis = svg.append('g').attr('class', 'cg-ChartAxis');
    for (const t of ticks) {
      axis.append('line').attr('x1', 40).attr('x2', CHART_WIDTH - 8).attr('y1', t.y).attr('y2', t.y);
      axis.append('text').attr('x', 34).attr('y', t.y + 4).attr('text-anchor', 'end').text(formatNumber(t.value));
    }
    svg.append('path').attr('class', 'cg-ChartLine').attr('d', path);
    svg
      .append('g')
      .selectAll('circle')
      .data(points)
      .join('circle')
      .attr('class', 'cg-ChartPoint')
      .attr('data-run-id', (p) => p.runId)
      .attr('cx', (p) => p.x)
      .attr('cy', (p) => p.y)
      .attr('r', 4)
      .append('title')
      .text((p) => `${p.runId}: ${this.metric.value} = ${formatNumber(p.value)}`);
  }

  /** The Gantt chart of one run's tasks. */
  async showTimeline(runId: string): Promise<void> {
    const run: RunDetail = await this.server.call(apiRoutes.getRun, { params: { id: runId } });
    const t = runTimeline(run, TIMELINE_WIDTH);
    const height = t.tasks.length * ROW_HEIGHT + 24;
    const svg = select(svgEl('svg', 'cg-Gantt') as SVGSVGElement).attr('width', LABEL_WIDTH + TIMELINE_WIDTH + 8).attr('height', height).attr('data-run-id', runId);
    t.tasks.forEach((task, i) => {
      svg.append('text').attr('class', 'cg-GanttTask').attr('x', LABEL_WIDTH - 6).attr('y', i * ROW_HEIGHT + 15).attr('text-anchor', 'end').text(task);
    });
    svg
      .append('g')
      .attr('transform', `translate(${LABEL_WIDTH},0)`)
      .selectAll('rect')
      .data(t.bars)
      .join('rect')
      .attr('class', (b) => `cg-Span cg-span-${b.state}${b.open ? ' cg-open' : ''}`)
      .attr('data-task', (b) => b.task)
      .attr('data-state', (b) => b.state)
      .attr('x', (b) => b.x)
      .attr('y', (b) => b.row * ROW_HEIGHT + 4)
      .attr('width', (b) => b.width)
      .attr('height', ROW_HEIGHT - 8)
      .append('title')
      .text((b) => `${b.task}: ${b.state}${b.attempt !== undefined ? ` (attempt ${b.attempt})` : ''} · ${formatDuration(b.endMs - b.startMs)} from ${formatDuration(b.startMs)}`);
    svg.append('text').attr('class', 'cg-GanttAxis').attr('x', LABEL_WIDTH).attr('y', height - 4).text('0');
    svg.append('text').attr('class', 'cg-GanttAxis').attr('x', LABEL_WIDTH + TIMELINE_WIDTH).attr('y', height - 4).attr('text-anchor', 'end').text(formatDuration(t.totalMs));
    const legend = el('div', 'cg-GanttLegend');
    for (const s of ['queued', 'running', 'retrying', 'cached']) legend.append(el('span', `cg-Legend cg-span-${s}`, s));
    this.timeline.replaceChildren(el('h3', '', `Timeline of ${runId}`), legend, svg.node() as SVGSVGElement);
  }
}
