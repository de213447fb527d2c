import { DEFAULT_OPTIONS, layoutLayered } from './layered';

/**
 * The DAG panel's geometry, as pure functions (no DOM): tasks and parameters placed in
 * layers top to bottom (parameters first), edges labelled with the values that flow and
 * their TypeScript types.
 */

/** What the layout needs of a compiled workflow (a subset of the IR). */
export interface DagInput {
  tasks: { name: string; cells: number[]; upstream: string[]; params: string[] }[];
  edges: { from: string; to: string; kind: 'data' | 'order'; values: { name: string; type: string }[] }[];
  params: { name: string; type: string }[];
}

export interface LaidOutNode {
  /** The task's name, or `param:<name>` for a parameter. */
  id: string;
  kind: 'task' | 'param';
  label: string;
  /** Centre. */
  x: number;
  y: number;
  width: number;
  height: number;
  cells: number[];
}

export interface LaidOutEdge {
  from: string;
  to: string;
  kind: 'data' | 'order' | 'param';
  /** What the edge shows: the full label when it is short, else a compact one (the values' names). */
  label: string;
  /** The full label (`name: Type, ...`), the tooltip of a compact one. */
  fullLabel: string;
  points: { x: number; y: number }[];
  /** The label's box (centre, size); placed by the layout so no two labels or nodes overlap. Absent without a label. */
  labelBox?: Box;
}

/** An axis-aligned box by its centre. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What the panel chooses to show. */
export interface LayoutOptions {
  /** Draw the parameters and their edges (default true); collapsed, tasks stand alone. */
  showParams?: boolean;
}

export interface DagLayout {
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  width: number;
  height: number;
}

/** Approximate advance of a 12px monospace character; labels are sized without a DOM. */
export const CHAR_WIDTH = 7.2;
/** Task nodes have three lines: the name, the run caption (state, duration, attempts) and a failed task's error. */
export const TASK_HEIGHT = 56;
/** Approximate advance of an edge label's 11px monospace character (style/index.css). */
export const LABEL_CHAR_WIDTH = 6.7;
export const LABEL_HEIGHT = 16;
/** Labels longer than this are shown compact (the values' names), the full types on hover. */
export const MAX_LABEL_CHARS = 36;
export const PARAM_HEIGHT = 24;
/** Wide enough for the longest run caption (`failed · 3 attempts`) without re-laying out during a run. */
export const MIN_TASK_WIDTH = 150;

/** `name: Type` for each value an edge carries; ordering-only edges say `after`. */
export function edgeLabel(edge: DagInput['edges'][number]): string {
  return edge.kind === 'order' ? 'after' : edge.values.map((v) => `${v.name}: ${v.type}`).join(', ');
}

/**
 * What an edge shows: its full label when short enough, else the names of its values
 * (`message, stats`), else the first name and how many more (`message +3`).
 */
export function compactLabel(edge: DagInput['edges'][number], max = MAX_LABEL_CHARS): string {
  const full = edgeLabel(edge);
  if (full.length <= max || edge.kind === 'order') return full;
  const names = edge.values.map((v) => v.name).join(', ');
  if (names.length <= max) return names;
  const first = edge.values[0].name;
  const more = ` +${edge.values.length - 1}`;
  return `${first.length + more.length > max ? `${first.slice(0, Math.max(1, max - more.length - 1))}…` : first}${more}`;
}

/** The box a label of `text` takes (11px monospace, a little padding). */
export function labelSize(text: string): { width: number; height: number } {
  return { width: Math.ceil(text.length * LABEL_CHAR_WIDTH) + 8, height: LABEL_HEIGHT };
}

/** True when two boxes share area (touching edges do not count). */
export function boxesOverlap(a: Box, b: Box): boolean {
  return Math.abs(a.x - b.x) < (a.width + b.width) / 2 && Math.abs(a.y - b.y) < (a.height + b.height) / 2;
}

/** Every pair of boxes that overlap, by index (a sweep over x, so a 200-task DAG's ~1000 boxes check fast). */
export function overlappingPairs(boxes: readonly Box[]): [number, number][] {
  const order = boxes.map((_b, i) => i).sort((a, b) => boxes[a].x - boxes[a].width / 2 - (boxes[b].x - boxes[b].width / 2));
  const pairs: [number, number][] = [];
  for (let i = 0; i < order.length; i++) {
    const a = boxes[order[i]];
    const right = a.x + a.width / 2;
    for (let j = i + 1; j < order.length && boxes[order[j]].x - boxes[order[j]].width / 2 < right; j++) {
      if (boxesOverlap(a, boxes[order[j]])) pairs.push([Math.min(order[i], order[j]), Math.max(order[i], order[j])]);
    }
  }
  return pairs;
}

/** Vertical space between a layer and the next; labels take layers of their own in between. */
const LABELLED_OPTIONS = { ...DEFAULT_OPTIONS, rankSep: 22 };

/** Positions every task and parameter, top to bottom, parameters in the first layer, every edge label in the gap below its source. */
export function layoutDag(input: DagInput, options: LayoutOptions = {}): DagLayout {
  const params = options.showParams === false ? [] : input.params;
  const nodes: Omit<LaidOutNode, 'x' | 'y'>[] = [
    ...params.map((p) => ({ id: `param:${p.name}`, kind: 'param' as const, label: `${p.name}: ${p.type}`, width: 0, height: PARAM_HEIGHT, cells: [] })),
    ...input.tasks.map((t) => ({ id: t.name, kind: 'task' as const, label: t.name, width: 0, height: TASK_HEIGHT, cells: t.cells }))
  ];
  for (const n of nodes) n.width = Math.max(n.kind === 'task' ? MIN_TASK_WIDTH : 60, Math.ceil(n.label.length * CHAR_WIDTH) + 24);
  const ids = new Set(nodes.map((n) => n.id));
  const edges: Omit<LaidOutEdge, 'points'>[] = input.edges.map((e) => ({ from: e.from, to: e.to, kind: e.kind, label: compactLabel(e), fullLabel: edgeLabel(e) }));
  for (const t of input.tasks) for (const p of t.params) if (ids.has(`param:${p}`)) edges.push({ from: `param:${p}`, to: t.name, kind: 'param', label: '', fullLabel: '' });
  const result = layoutLayered(
    nodes.map((n) => ({ id: n.id, width: n.width, height: n.height, top: n.kind === 'param' })),
    edges.map((e) => ({ from: e.from, to: e.to, ...(e.label !== '' ? { label: labelSize(e.label) } : {}) })),
    LABELLED_OPTIONS
  );
  return {
    nodes: nodes.map((n) => {
      const at = result.positions.get(n.id) as { x: number; y: number };
      return { ...n, x: at.x, y: at.y };
    }),
    edges: edges
      .map((e, i) => {
        const at = result.labelPositions[i];
        return { ...e, points: result.edgePoints[i], ...(at !== undefined ? { labelBox: { ...at, ...labelSize(e.label) } } : {}) };
      })
      .filter((e) => e.points.length > 0),
    width: result.width,
    height: result.height
  };
}

/**
 * An edge's SVG path: vertical cubic curves between the points a layout gives (one per
 * layer the edge crosses), so edges leave and enter nodes straight down.
 */
export function edgePath(points: readonly { x: number; y: number }[]): string {
  if (points.length === 0) return '';
  let d = `M${round(points[0].x)},${round(points[0].y)}`;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const mid = round((a.y + b.y) / 2);
    d += ` C${round(a.x)},${mid} ${round(b.x)},${mid} ${round(b.x)},${round(b.y)}`;
  }
  return d;
}

/** Where an edge's label goes: the middle of its middle segment (on the curve, by symmetry). */
export function labelPoint(points: readonly { x: number; y: number }[]): { x: number; y: number } {
  if (points.length === 1) return points[0];
  const i = Math.floor((points.length - 2) / 2);
  return { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
