import { Widget } from '@lumino/widgets';
import { Signal, type ISignal } from '@lumino/signaling';
import { select, type Selection } from 'd3-selection';
import { type D3ZoomEvent, type ZoomBehavior, zoom, zoomIdentity, type ZoomTransform } from 'd3-zoom';
import { type DagLayout, type LaidOutEdge, type LaidOutNode, edgePath } from '../dag/layout';
import { fitTransform, MINIMAP_MIN_NODES, minimapScale, visibleArea } from '../dag/viewport';
import { type TaskRunInfo, elementCountParts, errorLine, runCaption, runTooltip, stateClass } from '../dag/state';
import { measure } from '../model';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** The minimap's size in pixels (its longer side). */
const MINIMAP_SIZE = 180;

/**
 * The DAG drawn with d3 as an SVG, as JupyterLab's terminal widget draws: rendering in
 * onUpdateRequest (after attach and on every change), re-fitting in onResize. A new graph is
 * joined by key (task name, edge ends), so an edit redraws what changed; a run's progress
 * only touches the nodes' classes and captions. The drawing zooms and pans (d3-zoom: wheel,
 * drag, the Fit button), is fitted to the panel when first shown, and past
 * {@link MINIMAP_MIN_NODES} nodes has a minimap to navigate by. Nodes carry `data-task` and
 * state classes (extension/CONTRACT.md) for tests and styles.
 */
export class DagView extends Widget {
  private dag?: DagLayout;
  private errors = new Set<string>();
  private run?: Map<string, TaskRunInfo>;
  private selected?: string;
  private graphDirty = false;
  /** Fit the next drawing to the panel (the first graph, or after the Fit button). */
  private fitPending = true;
  private transform: ZoomTransform = zoomIdentity;
  private readonly svg: SVGSVGElement;
  private readonly minimap: SVGSVGElement;
  private readonly zoomer: ZoomBehavior<SVGSVGElement, unknown>;
  /** The drawn node groups, kept so a run's progress re-decorates them without a new join. */
  private nodes?: Selection<SVGGElement, LaidOutNode, SVGGElement, unknown>;
  private readonly clicked = new Signal<this, LaidOutNode>(this);
  /** How long the last full render took (ms), also recorded as the `cellgraph:render` performance measure. */
  lastRenderMs = 0;

  constructor() {
    super();
    this.addClass('cg-DagView');
    this.svg = document.createElementNS(SVG_NS, 'svg');
    this.svg.classList.add('cg-DagCanvas');
    this.minimap = document.createElementNS(SVG_NS, 'svg');
    this.minimap.classList.add('cg-Minimap');
    this.node.append(this.svg, this.minimap);
    const svg = select(this.svg);
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
    const viewport = svg.append('g').attr('class', 'cg-Viewport');
    viewport.append('g').attr('class', 'cg-Edges');
    viewport.append('g').attr('class', 'cg-Nodes');
    this.zoomer = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.02, 4])
      .on('zoom', (event: D3ZoomEvent<SVGSVGElement, unknown>) => {
        this.transform = event.transform;
        viewport.attr('transform', event.transform.toString());
        this.drawMinimapViewport();
      });
    svg.call(this.zoomer).on('dblclick.zoom', null);
    const mm = select(this.minimap);
    mm.append('g').attr('class', 'cg-MinimapNodes');
    mm.append('rect').attr('class', 'cg-MinimapViewport');
    // Clicking or dragging on the minimap centres the drawing on that point.
    const centreOn = (event: MouseEvent) => {
      const layout = this.dag;
      if (layout === undefined || (event.type === 'mousemove' && event.buttons !== 1)) return;
      const box = this.minimap.getBoundingClientRect();
      const k = minimapScale(layout, MINIMAP_SIZE);
      const x = (event.clientX - box.left) / k;
      const y = (event.clientY - box.top) / k;
      svg.call(this.zoomer.translateTo, x, y);
    };
    this.minimap.addEventListener('mousedown', centreOn);
    this.minimap.addEventListener('mousemove', centreOn);
  }

  /** A node was clicked (the panel selects its cells and shows its details). */
  get nodeClicked(): ISignal<this, LaidOutNode> {
    return this.clicked;
  }

  /** The current zoom scale (1: the layout's own pixels). */
  get scale(): number {
    return this.transform.k;
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

  /** Zooms and pans so the whole DAG fits the panel (never enlarged past its own size). */
  fit(): void {
    this.fitPending = true;
    this.update();
  }

  /** Zooms in (factor > 1) or out around the panel's centre. */
  zoomBy(factor: number): void {
    select(this.svg).call(this.zoomer.scaleBy, factor);
  }

  /** Pans so the node `id` is in the middle of the panel. */
  centreOn(id: string): void {
    const node = this.dag?.nodes.find((n) => n.id === id);
    if (node !== undefined) select(this.svg).call(this.zoomer.translateTo, node.x, node.y);
  }

  protected onAfterAttach(): void {
    this.update();
  }

  protected onAfterShow(): void {
    this.update();
  }

  protected onResize(): void {
    this.update();
  }

  protected onUpdateRequest(): void {
    const layout = this.dag;
    if (layout === undefined) return;
    const svg = select(this.svg);
    if (this.graphDirty) {
      const start = performance.now();
      this.drawGraph(svg, layout);
      this.drawMinimap(layout);
      this.graphDirty = false;
      this.decorate();
      // Reading a layout property makes the browser lay the SVG out now, so the figure includes it.
      void this.svg.getBoundingClientRect();
      const end = performance.now();
      this.lastRenderMs = end - start;
      measure('cellgraph:render', start, end);
    } else this.decorate();
    if (this.fitPending) {
      const { width, height } = this.svg.getBoundingClientRect();
      // Hidden (a background tab): fitted when it is shown and has a size.
      if (width > 0 && height > 0) {
        this.fitPending = false;
        const t = fitTransform(layout, width, height);
        svg.call(this.zoomer.transform, zoomIdentity.translate(t.x, t.y).scale(t.k));
      }
    }
    this.drawMinimapViewport();
  }

  private drawGraph(svg: Selection<SVGSVGElement, unknown, null, undefined>, layout: DagLayout): void {
    svg.attr('data-width', layout.width).attr('data-height', layout.height);
    svg
      .select<SVGGElement>('g.cg-Edges')
      .selectAll<SVGGElement, LaidOutEdge>('g.cg-Edge')
      .data(layout.edges, (e) => `${e.from}\u0000${e.to}\u0000${e.kind}`)
      .join((enter) => {
        const g = enter.append('g');
        // The full `name: Type` list is the edge's tooltip (label and line), outside the label's text.
        g.append('title');
        g.append('path').attr('marker-end', 'url(#cg-arrow)');
        g.append('text').attr('class', 'cg-EdgeLabel').attr('text-anchor', 'middle').append('tspan');
        return g;
      })
      .attr('class', (e) => `cg-Edge cg-Edge-${e.kind}`)
      .attr('data-from', (e) => e.from)
      .attr('data-to', (e) => e.to)
      .call((g) => g.select('path').attr('d', (e) => edgePath(e.points)))
      .call((g) =>
        g
          .select('text')
          .attr('x', (e) => e.labelBox?.x ?? 0)
          .attr('y', (e) => (e.labelBox?.y ?? 0) + 4)
          .attr('data-compact', (e) => (e.label !== e.fullLabel ? 'true' : null))
          .call((t) => t.select('tspan').text((e) => e.label))
      )
      .call((g) => g.select('title').text((e) => e.fullLabel));
    this.nodes = svg
      .select<SVGGElement>('g.cg-Nodes')
      .selectAll<SVGGElement, LaidOutNode>('g[data-node]')
      .data(layout.nodes, (n) => n.id)
      .join((enter) => {
        const g = enter.append('g').on('click', (_event, n) => this.clicked.emit(n));
        g.append('title');
        g.append('rect');
        g.append('text').attr('class', 'cg-NodeName').attr('text-anchor', 'middle');
        const tasks = g.filter((n) => n.kind === 'task');
        tasks.append('text').attr('class', 'cg-NodeCaption cg-Duration').attr('text-anchor', 'middle');
        tasks.append('text').attr('class', 'cg-NodeError').attr('text-anchor', 'middle');
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
      .call((g) => g.select('text.cg-NodeCaption').attr('x', (n) => n.width / 2).attr('y', 34))
      .call((g) => g.select('text.cg-NodeError').attr('x', (n) => n.width / 2).attr('y', 49));
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
    nodes.select<SVGTextElement>('text.cg-NodeCaption').each((n, i, all) => captionOf(all[i], this.run?.get(n.id)));
    // The failure reason on the node itself, cut to its width (the whole error is its tooltip).
    nodes.select('text.cg-NodeError').text((n) => errorLine(this.run?.get(n.id), n.width));
    // A task's name sits in the middle until a run gives it a caption line.
    nodes
      .filter((n) => n.kind === 'task')
      .select('text.cg-NodeName')
      .attr('y', (n) => (this.run?.has(n.id) ? 18 : n.height / 2 + 4));
    nodes.select('title').text((n) => {
      if (n.kind === 'param') return `parameter ${n.label}`;
      const task = this.run?.get(n.id);
      const cells = `cells ${n.cells.map((c) => c + 1).join(', ')}`;
      return task === undefined ? `${n.label} (${cells})` : `${runTooltip(task)}\n${cells}`;
    });
  }

  /** Each node as a rectangle, the whole DAG in {@link MINIMAP_SIZE} pixels; shown past {@link MINIMAP_MIN_NODES} nodes. */
  private drawMinimap(layout: DagLayout): void {
    const shown = layout.nodes.length > MINIMAP_MIN_NODES;
    this.minimap.style.display = shown ? '' : 'none';
    if (!shown) return;
    const k = minimapScale(layout, MINIMAP_SIZE);
    const mm = select(this.minimap).attr('width', Math.ceil(layout.width * k)).attr('height', Math.ceil(layout.height * k));
    mm.select('g.cg-MinimapNodes')
      .selectAll<SVGRectElement, LaidOutNode>('rect')
      .data(layout.nodes, (n) => n.id)
      .join('rect')
      .attr('x', (n) => (n.x - n.width / 2) * k)
      .attr('y', (n) => (n.y - n.height / 2) * k)
      .attr('width', (n) => Math.max(1, n.width * k))
      .attr('height', (n) => Math.max(1, n.height * k));
  }

  /** The minimap's rectangle of what the panel shows now. */
  private drawMinimapViewport(): void {
    const layout = this.dag;
    if (layout === undefined || this.minimap.style.display === 'none') return;
    const { width, height } = this.svg.getBoundingClientRect();
    const k = minimapScale(layout, MINIMAP_SIZE);
    const area = visibleArea(this.transform, width, height);
    select(this.minimap)
      .select('rect.cg-MinimapViewport')
      .attr('x', area.x * k)
      .attr('y', area.y * k)
      .attr('width', area.width * k)
      .attr('height', area.height * k);
  }
}

/**
 * A node's caption: its state (runCaption), or for a foreach task its element counts, each
 * count coloured by its state (`18 ✓ 1 ✗ 1 ⏳ / 20`; the node's colour says the task's state).
 */
function captionOf(text: SVGTextElement, task: TaskRunInfo | undefined): void {
  const caption = select(text);
  caption.selectAll('tspan').remove();
  caption.classed('cg-NodeElements', task?.elements !== undefined);
  if (task?.elements === undefined) {
    caption.text(runCaption(task));
    return;
  }
  caption.text(null);
  const { parts, total } = elementCountParts(task.elements);
  for (const p of parts) caption.append('tspan').attr('class', `cg-ElementCount cg-el-${p.state}`).attr('data-state', p.state).text(`${p.text} `);
  caption.append('tspan').attr('class', 'cg-ElementTotal').text(total);
}
