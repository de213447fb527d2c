import { Widget } from '@lumino/widgets';
import { Signal, type ISignal } from '@lumino/signaling';
import { select, type Selection } from 'd3-selection';
import { type DagLayout, type LaidOutEdge, type LaidOutNode, edgePath, labelPoint } from '../dag/layout';
import { type TaskRunInfo, runCaption, runTooltip, stateClass } from '../dag/state';
import { measure } from '../model';

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * The DAG drawn with d3 as an SVG, as JupyterLab's terminal widget draws: rendering in
 * onUpdateRequest (after attach and on every change). A new graph is joined by key (task
 * name, edge ends), so an edit redraws what changed; a run's progress only touches the
 * nodes' classes and captions. Nodes carry `data-task` and state classes
 * (extension/CONTRACT.md) for tests and styles.
 */
export class DagView extends Widget {
  private dag?: DagLayout;
  private errors = new Set<string>();
  private run?: Map<string, TaskRunInfo>;
  private selected?: string;
  private graphDirty = false;
  /** The drawn node groups, kept so a run's progress re-decorates them without a new join. */
  private nodes?: Selection<SVGGElement, LaidOutNode, SVGGElement, unknown>;
  private readonly clicked = new Signal<this, LaidOutNode>(this);
  /** How long the last full render took (ms), also recorded as the `cellgraph:render` performance measure. */
  lastRenderMs = 0;

  constructor() {
    super({ node: document.createElementNS(SVG_NS, 'svg') as unknown as HTMLElement });
    this.addClass('cg-DagView');
    const svg = select(this.node as unknown as SVGSVGElement);
    svg
      .append('defs')
      .append('marker')
      .attr('id', 'cg-arrow')
      .attr('viewBox', '0 0 10 10')
      .attr('refX', 10)
      .attr('refY', 5)
      .attr('markerWidth', 6)
      .attr('markerHeight', 6)
      .attr('orient', 'auto')
      .append('path')
      .attr('d', 'M0,0 L10,5 L0,10 z');
    svg.append('g').attr('class', 'cg-Edges');
    svg.append('g').attr('class', 'cg-Nodes');
  }

  /** A node was clicked (the panel selects its cells and shows its details). */
  get nodeClicked(): ISignal<this, LaidOutNode> {
    return this.clicked;
  }

  /** A new layout, and the tasks compile errors name. */
  setGraph(layout: DagLayout, errors: Set<string>): void {
    this.dag = layout;
    this.errors = errors;
    this.graphDirty = true;
    this.update();
  }

  /** Each task's state in the run shown (undefined: no run). */
  setRun(run: Map<string, TaskRunInfo> | undefined): void {
    this.run = run;
    this.update();
  }

  setSelected(task: string | undefined): void {
    this.selected = task;
    this.update();
  }

  protected onAfterAttach(): void {
    this.update();
  }

  protected onUpdateRequest(): void {
    const layout = this.dag;
    if (layout === undefined) return;
    const svg = select(this.node as unknown as SVGSVGElement);
    if (this.graphDirty) {
      const start = performance.now();
      this.drawGraph(svg, layout);
      this.graphDirty = false;
      this.decorate();
      // Reading a layout property makes the browser lay the SVG out now, so the figure includes it.
      void (this.node as unknown as SVGSVGElement).getBoundingClientRect();
      const end = performance.now();
      this.lastRenderMs = end - start;
      measure('cellgraph:render', start, end);
    } else this.decorate();
  }

  private drawGraph(svg: Selection<SVGSVGElement, unknown, null, undefined>, layout: DagLayout): void {
    svg.attr('width', layout.width).attr('height', layout.height).attr('viewBox', `0 0 ${layout.width} ${layout.height}`);
    svg
      .select<SVGGElement>('g.cg-Edges')
      .selectAll<SVGGElement, LaidOutEdge>('g.cg-Edge')
      .data(layout.edges, (e) => `${e.from}\u0000${e.to}\u0000${e.kind}`)
      .join((enter) => {
        const g = enter.append('g');
        g.append('path').attr('marker-end', 'url(#cg-arrow)');
        g.append('text').attr('class', 'cg-EdgeLabel');
        return g;
      })
      .attr('class', (e) => `cg-Edge cg-Edge-${e.kind}`)
      .attr('data-from', (e) => e.from)
      .attr('data-to', (e) => e.to)
      .call((g) => g.select('path').attr('d', (e) => edgePath(e.points)))
      .call((g) =>
        g
          .select('text')
          .attr('x', (e) => labelPoint(e.points).x + 4)
          .attr('y', (e) => labelPoint(e.points).y + 3)
          .text((e) => e.label)
      );
    this.nodes = svg
      .select<SVGGElement>('g.cg-Nodes')
      .selectAll<SVGGElement, LaidOutNode>('g[data-node]')
      .data(layout.nodes, (n) => n.id)
      .join((enter) => {
        const g = enter.append('g').on('click', (_event, n) => this.clicked.emit(n));
        g.append('title');
        g.append('rect');
        g.append('text').attr('class', 'cg-NodeName').attr('text-anchor', 'middle');
        g.filter((n) => n.kind === 'task').append('text').attr('class', 'cg-NodeCaption cg-Duration').attr('text-anchor', 'middle');
        return g;
      })
      .attr('data-node', (n) => n.id)
      .attr('transform', (n) => `translate(${n.x - n.width / 2},${n.y - n.height / 2})`)
      .attr('data-task', (n) => (n.kind === 'task' ? n.id : null))
      .attr('data-param', (n) => (n.kind === 'param' ? n.id.slice('param:'.length) : null))
      .call((g) =>
        g
          .select('rect')
          .attr('width', (n) => n.width)
          .attr('height', (n) => n.height)
          .attr('rx', (n) => (n.kind === 'param' ? n.height / 2 : 4))
      )
      .call((g) =>
        g
          .select('text.cg-NodeName')
          .attr('x', (n) => n.width / 2)
          .attr('y', (n) => n.height / 2 + 4)
          .text((n) => n.label)
      )
      .call((g) => g.select('text.cg-NodeCaption').attr('x', (n) => n.width / 2).attr('y', 32));
  }

  /** Classes, captions and tooltips: what a run or a selection changes. */
  private decorate(): void {
    const nodes = this.nodes;
    if (nodes === undefined) return;
    nodes.attr('class', (n) => {
      if (n.kind === 'param') return 'cg-ParamNode';
      const task = this.run?.get(n.id);
      return ['cg-Node', stateClass(task?.status), task?.cached ? 'cg-cached' : '', this.errors.has(n.id) ? 'cg-has-error' : '', this.selected === n.id ? 'cg-selected' : ''].filter(Boolean).join(' ');
    });
    nodes.select('text.cg-NodeCaption').text((n) => runCaption(this.run?.get(n.id)));
    // A task's name sits in the middle until a run gives it a caption line.
    nodes
      .filter((n) => n.kind === 'task')
      .select('text.cg-NodeName')
      .attr('y', (n) => (this.run?.has(n.id) ? 17 : n.height / 2 + 4));
    nodes.select('title').text((n) => {
      if (n.kind === 'param') return `parameter ${n.label}`;
      const task = this.run?.get(n.id);
      const cells = `cells ${n.cells.map((c) => c + 1).join(', ')}`;
      return task === undefined ? `${n.label} (${cells})` : `${runTooltip(task)}\n${cells}`;
    });
  }
}
