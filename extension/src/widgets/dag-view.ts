import { Widget } from '@lumino/widgets';
import { Signal, type ISignal } from '@lumino/signaling';
import { select } from 'd3-selection';
import { type DagLayout, type LaidOutNode } from '../dag/layout';
import { stateClass, type TaskState } from '../dag/state';

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * The DAG drawn with d3 as an SVG, as JupyterLab's terminal widget draws: rendering in
 * onUpdateRequest (after attach and on every change), nothing kept but the last layout.
 * Nodes carry `data-task` and state classes (extension/CONTRACT.md) for tests and styles.
 */
export class DagView extends Widget {
  private dag?: DagLayout;
  private states = new Map<string, TaskState>();
  private errors = new Set<string>();
  private readonly clicked = new Signal<this, LaidOutNode>(this);

  constructor() {
    super({ node: document.createElementNS(SVG_NS, 'svg') as unknown as HTMLElement });
    this.addClass('cg-DagView');
  }

  /** A node was clicked (the panel selects its cells). */
  get nodeClicked(): ISignal<this, LaidOutNode> {
    return this.clicked;
  }

  setLayout(layout: DagLayout, errors: Set<string>): void {
    this.dag = layout;
    this.errors = errors;
    this.update();
  }

  setStates(states: Map<string, TaskState>): void {
    this.states = states;
    this.update();
  }

  protected onAfterAttach(): void {
    this.update();
  }

  protected onUpdateRequest(): void {
    const layout = this.dag;
    const svg = select(this.node as unknown as SVGSVGElement);
    svg.selectAll('*').remove();
    if (layout === undefined) return;
    svg.attr('width', layout.width).attr('height', layout.height).attr('viewBox', `0 0 ${layout.width} ${layout.height}`);
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
    const edges = svg.append('g').selectAll('g').data(layout.edges).enter().append('g').attr('class', (e) => `cg-Edge cg-Edge-${e.kind}`).attr('data-from', (e) => e.from).attr('data-to', (e) => e.to);
    edges
      .append('path')
      .attr('d', (e) => e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' '))
      .attr('marker-end', 'url(#cg-arrow)');
    edges
      .filter((e) => e.label !== '')
      .append('text')
      .attr('class', 'cg-EdgeLabel')
      .attr('x', (e) => e.points[Math.floor(e.points.length / 2)].x + 4)
      .attr('y', (e) => e.points[Math.floor(e.points.length / 2)].y)
      .text((e) => e.label);
    const nodes = svg
      .append('g')
      .selectAll('g')
      .data(layout.nodes)
      .enter()
      .append('g')
      .attr('class', (n) => (n.kind === 'param' ? 'cg-ParamNode' : ['cg-Node', stateClass(this.states.get(n.id)), this.errors.has(n.id) ? 'cg-has-error' : ''].filter(Boolean).join(' ')))
      .attr('transform', (n) => `translate(${n.x - n.width / 2},${n.y - n.height / 2})`)
      .on('click', (_event, n) => this.clicked.emit(n));
    nodes.filter((n) => n.kind === 'task').attr('data-task', (n) => n.id);
    nodes.filter((n) => n.kind === 'param').attr('data-param', (n) => n.id.slice('param:'.length));
    nodes.append('rect').attr('width', (n) => n.width).attr('height', (n) => n.height).attr('rx', (n) => (n.kind === 'param' ? 12 : 4));
    nodes
      .append('text')
      .attr('x', (n) => n.width / 2)
      .attr('y', (n) => n.height / 2 + 4)
      .attr('text-anchor', 'middle')
      .text((n) => n.label);
  }
}
