import { layoutLayered } from './layered';

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
  label: string;
  points: { x: number; y: number }[];
}

export interface DagLayout {
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  width: number;
  height: number;
}

/** Approximate advance of a 12px monospace character; labels are sized without a DOM. */
export const CHAR_WIDTH = 7.2;
/** Task nodes have two lines: the name, and the run caption (state, duration, attempts). */
export const TASK_HEIGHT = 40;
export const PARAM_HEIGHT = 24;
/** Wide enough for the longest run caption (`failed · 3 attempts`) without re-laying out during a run. */
export const MIN_TASK_WIDTH = 150;

/** `name: Type` for each value an edge carries; ordering-only edges say `after`. */
export function edgeLabel(edge: DagInput['edges'][number]): string {
  return edge.kind === 'order' ? 'after' : edge.values.map((v) => `${v.name}: ${v.type}`).join(', ');
}

/** Positions every task and parameter, top to bottom, parameters in the first layer. */
export function layoutDag(input: DagInput): DagLayout {
  const nodes: Omit<LaidOutNode, 'x' | 'y'>[] = [
    ...input.params.map((p) => ({ id: `param:${p.name}`, kind: 'param' as const, label: `${p.name}: ${p.type}`, width: 0, height: PARAM_HEIGHT, cells: [] })),
    ...input.tasks.map((t) => ({ id: t.name, kind: 'task' as const, label: t.name, width: 0, height: TASK_HEIGHT, cells: t.cells }))
  ];
  for (const n of nodes) n.width = Math.max(n.kind === 'task' ? MIN_TASK_WIDTH : 60, Math.ceil(n.label.length * CHAR_WIDTH) + 24);
  const ids = new Set(nodes.map((n) => n.id));
  const edges: Omit<LaidOutEdge, 'points'>[] = input.edges.map((e) => ({ from: e.from, to: e.to, kind: e.kind, label: edgeLabel(e) }));
  for (const t of input.tasks) for (const p of t.params) if (ids.has(`param:${p}`)) edges.push({ from: `param:${p}`, to: t.name, kind: 'param', label: '' });
  const result = layoutLayered(
    nodes.map((n) => ({ id: n.id, width: n.width, height: n.height, top: n.kind === 'param' })),
    edges
  );
  return {
    nodes: nodes.map((n) => {
      const at = result.positions.get(n.id) as { x: number; y: number };
      return { ...n, x: at.x, y: at.y };
    }),
    edges: edges.map((e, i) => ({ ...e, points: result.edgePoints[i] })).filter((e) => e.points.length > 0),
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
