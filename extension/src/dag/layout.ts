import dagre from '@dagrejs/dagre';

/**
 * The DAG panel's geometry, as pure functions (no DOM): a layered layout of tasks and
 * parameters with dagre, edges labelled with the values that flow and their types.
 */

/** What the layout needs of a compiled workflow (a subset of the IR). */
export interface DagInput {
  tasks: { name: string; cells: number[]; upstream: string[]; params: string[] }[];
  edges: { from: string; to: string; kind: 'data' | 'order'; values: { name: string; type: string }[] }[];
  params: { name: string; type: string }[];
}

export interface LaidOutNode {
  id: string;
  kind: 'task' | 'param';
  label: string;
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

const CHAR_WIDTH = 7;
const NODE_HEIGHT = 32;

/** `name: Type` for each value an edge carries; ordering-only edges say `after`. */
export function edgeLabel(edge: DagInput['edges'][number]): string {
  return edge.kind === 'order' ? 'after' : edge.values.map((v) => `${v.name}: ${v.type}`).join(', ');
}

/** Positions every task and parameter, top to bottom, parameters in the first layer. */
export function layoutDag(input: DagInput): DagLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  // longest-path ranking: network-simplex (dagre's default) takes seconds on 500 nodes.
  g.setGraph({ rankdir: 'TB', nodesep: 30, ranksep: 50, marginx: 10, marginy: 10, ranker: 'longest-path' });
  g.setDefaultEdgeLabel(() => ({}));
  const nodes = new Map<string, Omit<LaidOutNode, 'x' | 'y'>>();
  for (const p of input.params) nodes.set(`param:${p.name}`, { id: `param:${p.name}`, kind: 'param', label: `${p.name}: ${p.type}`, width: 0, height: NODE_HEIGHT - 8, cells: [] });
  for (const t of input.tasks) nodes.set(t.name, { id: t.name, kind: 'task', label: t.name, width: 0, height: NODE_HEIGHT, cells: t.cells });
  for (const n of nodes.values()) {
    n.width = Math.max(60, n.label.length * CHAR_WIDTH + 24);
    g.setNode(n.id, { width: n.width, height: n.height });
  }
  const edges: Omit<LaidOutEdge, 'points'>[] = [];
  for (const e of input.edges) edges.push({ from: e.from, to: e.to, kind: e.kind, label: edgeLabel(e) });
  for (const t of input.tasks) for (const p of t.params) if (nodes.has(`param:${p}`)) edges.push({ from: `param:${p}`, to: t.name, kind: 'param', label: '' });
  // Labels are drawn at each edge's midpoint: sizing them in dagre would add a label node
  // per edge and double the graph it lays out.
  edges.forEach((e, i) => g.setEdge(e.from, e.to, {}, String(i)));
  // One ordering sweep instead of dagre's repeated search for fewer crossings: 500 nodes in
  // well under the panel's 200 ms budget, at the cost of a few more crossings.
  dagre.layout(g, { disableOptimalOrderHeuristic: true });
  const graph = g.graph();
  return {
    nodes: [...nodes.values()].map((n) => {
      const at = g.node(n.id);
      return { ...n, x: at.x, y: at.y };
    }),
    edges: edges.map((e, i) => ({ ...e, points: g.edge({ v: e.from, w: e.to, name: String(i) }).points.map((p) => ({ x: p.x, y: p.y })) })),
    width: graph.width ?? 0,
    height: graph.height ?? 0
  };
}
