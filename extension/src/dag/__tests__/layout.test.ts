/** The DAG panel's layout: what a reader of the drawing relies on, checked without a DOM. */
import { crossingsBetween, layoutLayered, placeInOrder } from '../layered';
import { type Box, type DagInput, compactLabel, edgeLabel, edgePath, labelPoint, layoutDag, overlappingPairs } from '../layout';

const hello: DagInput = {
  params: [
    { name: 'name', type: 'string' },
    { name: 'excitement', type: 'number' }
  ],
  tasks: [
    { name: 'greet', cells: [2], upstream: [], params: ['name'] },
    { name: 'shout', cells: [3, 4], upstream: ['greet'], params: ['excitement'] }
  ],
  edges: [{ from: 'greet', to: 'shout', kind: 'data', values: [{ name: 'message', type: 'string' }] }]
};

/** A layered DAG like the benchmark's: `width` tasks a layer, each reading two of the layer above. */
function layered(n: number, width: number): DagInput {
  const tasks: DagInput['tasks'] = [];
  const edges: DagInput['edges'] = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const upstream = layer === 0 ? [] : [...new Set([0, 1].map((k) => `t${(layer - 1) * width + ((i + k) % width)}`))];
    tasks.push({ name: `t${i}`, cells: [i], upstream, params: [] });
    for (const u of upstream) edges.push({ from: u, to: `t${i}`, kind: 'data', values: [{ name: `v${u}`, type: 'number[]' }] });
  }
  return { tasks, edges, params: [] };
}

function overlaps(a: { x: number; y: number; width: number; height: number }, b: typeof a): boolean {
  return Math.abs(a.x - b.x) < (a.width + b.width) / 2 && Math.abs(a.y - b.y) < (a.height + b.height) / 2;
}

it('puts parameters in the first layer and every task below what it reads', () => {
  const layout = layoutDag(hello);
  const at = new Map(layout.nodes.map((n) => [n.id, n]));
  const top = Math.min(...layout.nodes.map((n) => n.y));
  expect(at.get('param:name')?.y).toBe(top);
  expect(at.get('param:excitement')?.y).toBe(top);
  expect((at.get('greet')?.y as number) > top).toBe(true);
  expect((at.get('shout')?.y as number) > (at.get('greet')?.y as number)).toBe(true);
  for (const e of layout.edges) expect(e.points[0].y).toBeLessThan(e.points[e.points.length - 1].y);
});

it('labels data edges with the values and their types, ordering edges with "after"', () => {
  const layout = layoutDag(hello);
  expect(layout.edges.find((e) => e.from === 'greet')?.label).toBe('message: string');
  expect(layout.edges.filter((e) => e.kind === 'param').map((e) => `${e.from}->${e.to}`).sort()).toEqual(['param:excitement->shout', 'param:name->greet']);
  expect(edgeLabel({ from: 'a', to: 'b', kind: 'order', values: [] })).toBe('after');
  expect(edgeLabel({ from: 'a', to: 'b', kind: 'data', values: [{ name: 'x', type: 'number' }, { name: 'm', type: 'Map<string, number[]>' }] })).toBe('x: number, m: Map<string, number[]>');
});

it('never overlaps two nodes, and the drawing holds every node', () => {
  const layout = layoutDag(layered(200, 12));
  const problems: string[] = [];
  for (let i = 0; i < layout.nodes.length; i++) {
    const a = layout.nodes[i];
    if (a.x - a.width / 2 < 0 || a.x + a.width / 2 > layout.width || a.y + a.height / 2 > layout.height) problems.push(`${a.id} outside`);
    for (let j = i + 1; j < layout.nodes.length; j++) if (overlaps(a, layout.nodes[j])) problems.push(`${a.id} overlaps ${layout.nodes[j].id}`);
  }
  expect(problems).toEqual([]);
});

it('routes an edge that skips layers through a point in each layer it crosses', () => {
  const input: DagInput = {
    params: [],
    tasks: [
      { name: 'a', cells: [0], upstream: [], params: [] },
      { name: 'b', cells: [1], upstream: ['a'], params: [] },
      { name: 'c', cells: [2], upstream: ['b'], params: [] },
      { name: 'd', cells: [3], upstream: ['a', 'c'], params: [] }
    ],
    edges: [
      { from: 'a', to: 'b', kind: 'data', values: [] },
      { from: 'b', to: 'c', kind: 'data', values: [] },
      { from: 'c', to: 'd', kind: 'data', values: [] },
      { from: 'a', to: 'd', kind: 'order', values: [] }
    ]
  };
  const layout = layoutDag(input);
  const long = layout.edges.find((e) => e.from === 'a' && e.to === 'd');
  // Ends, the two task layers between and the four label layers in between (labels have layers of their own).
  expect(long?.points).toHaveLength(7);
  // The long edge stays clear of the nodes it passes.
  const mid = layout.nodes.filter((n) => n.id === 'b' || n.id === 'c');
  for (const p of long?.points.slice(1, -1) ?? []) for (const n of mid.filter((m) => m.y === p.y)) expect(Math.abs(p.x - n.x)).toBeGreaterThanOrEqual(n.width / 2);
  expect(long?.points.filter((p) => mid.some((m) => m.y === p.y))).toHaveLength(2);
});

it('untangles crossings the input order would draw', () => {
  // Input order puts the targets of a and b the wrong way round.
  const nodes = ['a', 'b', 'x', 'y'].map((id) => ({ id, width: 50, height: 30 }));
  const result = layoutLayered(nodes, [
    { from: 'a', to: 'y' },
    { from: 'b', to: 'x' },
    { from: 'a', to: 'x' }
  ]);
  expect(result.crossings).toBe(0);
  const order = (ids: string[]) => ids.map((id) => result.positions.get(id)?.x as number);
  const [a, b] = order(['a', 'b']);
  const [x, y] = order(['x', 'y']);
  expect(Math.sign(a - b)).toBe(Math.sign(y - x));
});

it('draws a tree given in a scrambled order without a crossing', () => {
  // 1 root, 4 children, 16 grandchildren, listed in an order that would tangle every layer.
  const ids = ['r', ...[0, 1, 2, 3].map((c) => `c${c}`), ...Array.from({ length: 16 }, (_, g) => `g${g}`)];
  const parent = (id: string) => (id.startsWith('c') ? 'r' : `c${Number(id.slice(1)) % 4}`);
  const scrambled = [...ids].sort((a, b) => ((a.charCodeAt(a.length - 1) * 7) % 11) - ((b.charCodeAt(b.length - 1) * 7) % 11));
  const result = layoutLayered(
    scrambled.map((id) => ({ id, width: 60, height: 30 })),
    scrambled.filter((id) => id !== 'r').map((id) => ({ from: parent(id), to: id }))
  );
  expect(result.crossings).toBe(0);
});

it('draws a ring-shaped 500-node DAG with fewer crossings than the cell order would', () => {
  const input = layered(500, 20);
  const nodes = input.tasks.map((t) => ({ id: t.name, width: 150, height: 40 }));
  const result = layoutLayered(nodes, input.edges);
  // In cell order each layer's wrap-around edge crosses 37 others (24 layer gaps).
  expect(result.crossings).toBeLessThan(37 * 24);
});

it('tolerates a cycle (a notebook mid-edit) without hanging, drawing the back edge reversed', () => {
  const nodes = ['a', 'b', 'c'].map((id) => ({ id, width: 40, height: 20 }));
  const result = layoutLayered(nodes, [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
    { from: 'c', to: 'a' },
    { from: 'a', to: 'zzz' }
  ]);
  expect(result.positions.size).toBe(3);
  const back = result.edgePoints[2];
  expect(back[0].y).toBeGreaterThan(back[back.length - 1].y);
  expect(result.edgePoints[3]).toEqual([]);
});

it('lays out the same input the same way every time', () => {
  expect(layoutDag(layered(60, 6))).toEqual(layoutDag(layered(60, 6)));
});

it('places a layer as close to where its nodes want to be as their spacing allows', () => {
  expect(placeInOrder([0, 0, 0], [1, 1, 1], [10, 10])).toEqual([-10, 0, 10]);
  expect(placeInOrder([0, 100], [1, 1], [10])).toEqual([0, 100]);
  // A heavy node stays put; a light one gives way.
  const [a, b] = placeInOrder([0, 0], [100, 1], [10]);
  expect(b - a).toBeCloseTo(10);
  expect(Math.abs(a)).toBeLessThan(0.2);
});

it('counts crossings between two layers', () => {
  const down = [[3], [2], [], []];
  expect(crossingsBetween([0, 1], [2, 3], down)).toBe(1);
  expect(crossingsBetween([0, 1], [3, 2], down)).toBe(0);
});

it('draws edges as vertical curves and labels them at their middle', () => {
  expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 20 }])).toBe('M0,0 C0,10 10,10 10,20');
  expect(labelPoint([{ x: 0, y: 0 }, { x: 10, y: 20 }])).toEqual({ x: 5, y: 10 });
  expect(labelPoint([{ x: 0, y: 0 }, { x: 0, y: 20 }, { x: 0, y: 40 }])).toEqual({ x: 0, y: 10 });
});

/** Six tasks in a diamond and a fan, with long types on several edges (what the issue saw overlap at 4-6 tasks). */
export function sixTasks(): DagInput {
  const v = (name: string, type: string) => ({ name, type });
  return {
    params: [
      { name: 'n', type: 'number' },
      { name: 'seed', type: 'number' }
    ],
    tasks: [
      { name: 'load', cells: [1], upstream: [], params: ['n'] },
      { name: 'clean', cells: [2], upstream: ['load'], params: [] },
      { name: 'stats', cells: [3], upstream: ['load'], params: ['seed'] },
      { name: 'quantiles', cells: [4], upstream: ['load', 'clean'], params: [] },
      { name: 'merge', cells: [5], upstream: ['clean', 'stats', 'quantiles'], params: [] },
      { name: 'report', cells: [6], upstream: ['merge', 'stats'], params: [] }
    ],
    edges: [
      { from: 'load', to: 'clean', kind: 'data', values: [v('rows', '{ id: number; value: number; label: string }[]')] },
      { from: 'load', to: 'stats', kind: 'data', values: [v('rows', '{ id: number; value: number; label: string }[]')] },
      { from: 'load', to: 'quantiles', kind: 'data', values: [v('rows', '{ id: number; value: number; label: string }[]'), v('n', 'number')] },
      { from: 'clean', to: 'quantiles', kind: 'data', values: [v('cleaned', 'number[]')] },
      { from: 'clean', to: 'merge', kind: 'data', values: [v('cleaned', 'number[]')] },
      { from: 'stats', to: 'merge', kind: 'data', values: [v('mean', 'number'), v('sd', 'number')] },
      { from: 'quantiles', to: 'merge', kind: 'data', values: [v('q', 'Map<string, number>')] },
      { from: 'merge', to: 'report', kind: 'data', values: [v('table', 'Record<string, number | string>[]')] },
      { from: 'stats', to: 'report', kind: 'order', values: [] }
    ]
  };
}

/** Every label and node box of a layout, named, and the pairs of them that overlap. */
function overlapsIn(layout: ReturnType<typeof layoutDag>): string[] {
  const named: { name: string; box: Box }[] = [
    ...layout.nodes.map((n) => ({ name: n.id, box: n })),
    ...layout.edges.filter((e) => e.labelBox !== undefined).map((e) => ({ name: `label ${e.from}->${e.to}`, box: e.labelBox as Box }))
  ];
  return overlappingPairs(named.map((n) => n.box)).map(([a, b]) => `${named[a].name} / ${named[b].name}`);
}

it('places every edge label where it overlaps no other label and no node: 6 tasks and 200 tasks', () => {
  const six = layoutDag(sixTasks());
  expect(six.edges.filter((e) => e.kind !== 'param').every((e) => e.labelBox !== undefined)).toBe(true);
  expect(overlapsIn(six)).toEqual([]);
  const big = layoutDag(layered(200, 12));
  expect(big.edges.filter((e) => e.labelBox !== undefined)).toHaveLength(big.edges.filter((e) => e.kind !== 'param').length);
  expect(overlapsIn(big)).toEqual([]);
  // The label sits on its edge: the edge passes through the label box's centre.
  for (const e of big.edges) if (e.labelBox) expect(e.points.some((p) => p.x === e.labelBox?.x && p.y === e.labelBox?.y)).toBe(true);
});

it('finds overlapping boxes (the check the layout and the UI test rely on)', () => {
  const boxes = [
    { x: 0, y: 0, width: 10, height: 10 },
    { x: 9, y: 0, width: 10, height: 10 },
    { x: 20, y: 0, width: 10, height: 10 },
    { x: 0, y: 10, width: 10, height: 10 }
  ];
  expect(overlappingPairs(boxes)).toEqual([[0, 1]]);
});

it('shows long labels compact (the values\' names) and keeps the full types for the tooltip', () => {
  const edge = sixTasks().edges[2];
  expect(edgeLabel(edge)).toContain('{ id: number');
  expect(compactLabel(edge)).toBe('rows, n');
  const many = { from: 'a', to: 'b', kind: 'data' as const, values: Array.from({ length: 12 }, (_, i) => ({ name: `value_number_${i}`, type: 'number' })) };
  expect(compactLabel(many)).toBe('value_number_0 +11');
  expect(compactLabel(sixTasks().edges[3])).toBe('cleaned: number[]');
  const layout = layoutDag(sixTasks());
  const e = layout.edges.find((x) => x.from === 'load' && x.to === 'quantiles');
  expect(e?.label).toBe('rows, n');
  expect(e?.fullLabel).toBe('rows: { id: number; value: number; label: string }[], n: number');
});

it('collapses the parameters: no parameter nodes or edges, the tasks laid out alone', () => {
  const layout = layoutDag(sixTasks(), { showParams: false });
  expect(layout.nodes.filter((n) => n.kind === 'param')).toEqual([]);
  expect(layout.edges.filter((e) => e.kind === 'param')).toEqual([]);
  expect(layout.nodes).toHaveLength(6);
});
