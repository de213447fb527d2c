/**
 * Data flow: which top-level bindings become typed edges between tasks, with the
 * TypeScript type text recorded in the IR, and how `after` adds ordering edges.
 */
import { code, md } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, compileOk } from './helpers';

afterAll(cleanup);

describe('data edges', () => {
  it('records a binding declared in one task and used in another as a typed edge', () => {
    const { ir, warnings } = compileOk([
      code('interface Point { x: number; y: number }', { role: 'setup' }),
      code('const xs: number[] = [1, 2, 3];\nconst origin: Point = { x: 0, y: 0 };\nconst counts = new Map<string, number>();', { task: 'load' }),
      code('const total = xs.reduce((s, x) => s + x, 0) + origin.x + counts.size;', { task: 'sum' })
    ]);
    expect(warnings).toEqual([]);
    expect(ir.edges).toEqual([
      {
        from: 'load',
        to: 'sum',
        kind: 'data',
        values: [
          { name: 'xs', type: 'number[]' },
          { name: 'origin', type: 'Point' },
          { name: 'counts', type: 'Map<string, number>' }
        ]
      }
    ]);
    const sum = ir.tasks.find((t) => t.name === 'sum');
    expect(sum?.inputs).toEqual([
      { name: 'xs', type: 'number[]', from: 'load' },
      { name: 'origin', type: 'Point', from: 'load' },
      { name: 'counts', type: 'Map<string, number>', from: 'load' }
    ]);
    expect(sum?.upstream).toEqual(['load']);
    expect(sum?.outputs).toEqual([{ name: 'total', type: 'number' }]);
  });

  it('records the type text of inferred and annotated values (literals widened unless annotated)', () => {
    const { ir } = compileOk([
      code(
        [
          'const n = 3;',
          'const label = "x";',
          'const mode: "fast" | "slow" = "fast";',
          'const rows = [{ id: 1, name: "a" }];',
          'const pair: [string, number] = ["a", 1];',
          'const maybe: string | null = null;',
          'const nested = new Map<string, Set<number>>();'
        ].join('\n'),
        { task: 'a' }
      ),
      code('const used = [n, label, mode, rows, pair, maybe, nested];', { task: 'b' })
    ]);
    expect(ir.edges[0].values).toEqual([
      { name: 'n', type: 'number' },
      { name: 'label', type: 'string' },
      { name: 'mode', type: '"fast" | "slow"' },
      { name: 'rows', type: '{ id: number; name: string; }[]' },
      { name: 'pair', type: '[string, number]' },
      { name: 'maybe', type: 'string' }, // not strict, as in tslab: null is in every type
      { name: 'nested', type: 'Map<string, Set<number>>' }
    ]);
  });

  it('makes no edge for declarations nobody downstream uses', () => {
    const { ir } = compileOk([
      code('const used = 1;\nconst unused = 2;', { task: 'a' }),
      code('const b = used + 1;', { task: 'b' }),
      code('const c = 3;', { task: 'c' })
    ]);
    expect(ir.edges).toEqual([{ from: 'a', to: 'b', kind: 'data', values: [{ name: 'used', type: 'number' }] }]);
    const c = ir.tasks.find((t) => t.name === 'c');
    expect(c?.inputs).toEqual([]);
    expect(c?.upstream).toEqual([]);
    // Unused values are still outputs of their task (they are saved), just not edges.
    expect(ir.tasks[0].outputs.map((o) => o.name)).toEqual(['used', 'unused']);
  });

  it('connects a consumer to every producer it reads, not just the nearest one', () => {
    const { ir } = compileOk([
      code('const a = 1;', { task: 'first' }),
      code('const b = a + 1;', { task: 'second' }),
      code('const c = a + b;', { task: 'third' }),
      code('const d = a * 2;', { task: 'fourth' })
    ]);
    expect(ir.edges.map((e) => [e.from, e.to, e.values.map((v) => v.name)])).toEqual([
      ['first', 'second', ['a']],
      ['first', 'third', ['a']],
      ['second', 'third', ['b']],
      ['first', 'fourth', ['a']]
    ]);
    expect(ir.tasks.find((t) => t.name === 'third')?.upstream).toEqual(['first', 'second']);
  });

  it('keeps values flowing between cells of one task inside the task', () => {
    const { ir } = compileOk([
      code('const a = 1;', { task: 'one' }),
      md('notes'),
      code('const b = a + 1;'),
      code('const c = b + 1;', { task: 'two' })
    ]);
    expect(ir.tasks.map((t) => [t.name, t.cells])).toEqual([
      ['one', [0, 2]],
      ['two', [3]]
    ]);
    expect(ir.edges).toEqual([{ from: 'one', to: 'two', kind: 'data', values: [{ name: 'b', type: 'number' }] }]);
  });

  it('does not make edges for setup code, imports, types or parameters', () => {
    const { ir } = compileOk([
      code('import * as fs from "fs";\ninterface Row { id: number }\nfunction double(x: number): number { return x * 2; }\nconst LIMIT = 10;', { role: 'setup' }),
      code('const scale = 2;', { role: 'parameters' }),
      code('const rows: Row[] = [{ id: double(LIMIT) * scale }];\nconst exists = fs.existsSync(".");', { task: 'a' }),
      code('const ids = rows.map((r: Row) => double(r.id));', { task: 'b' })
    ]);
    expect(ir.edges).toEqual([{ from: 'a', to: 'b', kind: 'data', values: [{ name: 'rows', type: 'Row[]' }] }]);
    expect(ir.tasks.map((t) => [t.name, t.params])).toEqual([
      ['a', ['scale']],
      ['b', []]
    ]);
  });

  it('sees values used in shorthand properties, template strings and nested functions', () => {
    const { ir } = compileOk([
      code('const a = 1;\nconst b = "x";\nconst c = [1];', { task: 'p' }),
      code('const o = { a: a };\nconst s = `${b}!`;\nconst f = () => c.length;\nconst r = f();', { task: 'q' })
    ]);
    expect(ir.edges[0].values.map((v) => v.name)).toEqual(['a', 'b', 'c']);
  });
});

describe('ordering edges', () => {
  it('adds an order edge for `after` with no data', () => {
    const { ir } = compileOk([code('console.log("a");', { task: 'a' }), code('console.log("b");', { task: 'b', after: ['a'] })]);
    expect(ir.edges).toEqual([{ from: 'a', to: 'b', kind: 'order', values: [] }]);
    const b = ir.tasks.find((t) => t.name === 'b');
    expect(b?.after).toEqual(['a']);
    expect(b?.upstream).toEqual(['a']);
  });

  it('merges `after` with a data edge between the same tasks into one data edge', () => {
    const { ir } = compileOk([code('const v = 1;', { task: 'a' }), code('const w = v;', { task: 'b', after: ['a'] })]);
    expect(ir.edges).toEqual([{ from: 'a', to: 'b', kind: 'data', values: [{ name: 'v', type: 'number' }] }]);
  });

  it('lets `after` point at a later task (ordering is not notebook order)', () => {
    const { ir } = compileOk([code('console.log(1);', { task: 'a', after: ['b'] }), code('console.log(2);', { task: 'b' })]);
    expect(ir.edges).toEqual([{ from: 'b', to: 'a', kind: 'order', values: [] }]);
  });
});
