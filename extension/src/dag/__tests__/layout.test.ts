/** The DAG panel's geometry and state mapping, without a DOM. */
import { type DagInput, edgeLabel, layoutDag } from '../layout';
import { stateClass, tasksWithErrors } from '../state';

const hello: DagInput = {
  params: [
    { name: 'name', type: 'string' },
    { name: 'excitement', type: 'number' }
  ],
  tasks: [
    { name: 'greet', cells: [2], upstream: [], params: ['name'] },
    { name: 'shout', cells: [3], upstream: ['greet'], params: ['excitement'] }
  ],
  edges: [{ from: 'greet', to: 'shout', kind: 'data', values: [{ name: 'message', type: 'string' }] }]
};

it('lays tasks out top to bottom after their upstream, parameters above the tasks that read them', () => {
  const layout = layoutDag(hello);
  const at = (id: string) => layout.nodes.find((n) => n.id === id)!;
  expect(at('shout').y).toBeGreaterThan(at('greet').y);
  expect(at('greet').y).toBeGreaterThan(at('param:name').y);
  expect(at('greet').cells).toEqual([2]);
  expect(layout.edges.map((e) => [e.from, e.to, e.kind, e.label])).toEqual([
    ['greet', 'shout', 'data', 'message: string'],
    ['param:name', 'greet', 'param', ''],
    ['param:excitement', 'shout', 'param', '']
  ]);
  for (const e of layout.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
  expect(layout.width).toBeGreaterThan(0);
});

it('labels ordering-only edges `after` and several values with their types', () => {
  expect(edgeLabel({ from: 'a', to: 'b', kind: 'order', values: [] })).toBe('after');
  expect(edgeLabel({ from: 'a', to: 'b', kind: 'data', values: [{ name: 'x', type: 'number[]' }, { name: 'y', type: 'Model' }] })).toBe('x: number[], y: Model');
});

it('maps task states to classes and diagnostics to the tasks they name', () => {
  expect(stateClass('succeeded')).toBe('cg-state-succeeded');
  expect(stateClass(undefined)).toBe('');
  expect([...tasksWithErrors([{ task: 'a', severity: 'error' }, { task: 'b', severity: 'warning' }, { severity: 'error' }])]).toEqual(['a']);
});
