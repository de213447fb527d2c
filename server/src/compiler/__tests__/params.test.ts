/**
 * The parameters cell: literal consts and param(name, schema, default) become typed IR
 * parameters; anything else is an error naming the line.
 */
import { code } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, compileErrors, compileOk } from './helpers';

afterAll(cleanup);

const SETUP = code('import { z } from "zod";\nimport { param } from "@cellgraph/kernel";', { role: 'setup' });

describe('parameters', () => {
  it('turns literal consts into params with kinds, types and defaults', () => {
    const { ir } = compileOk([
      SETUP,
      code(
        [
          'const epochs = 10;',
          'const lr = 0.05;',
          'const offset = -3;',
          'const name = "run";',
          "const quoted = 'single';",
          'const verbose = false;',
          'const layers = [64, 32];',
          'const opts = { depth: 2, "kind": "tree" };',
          'const nothing = null;',
          'const mode = "fast" as "fast" | "slow";'
        ].join('\n'),
        { role: 'parameters' }
      ),
      code('console.log(epochs, lr, offset, name, quoted, verbose, layers, opts, nothing, mode);', { task: 'a' })
    ]);
    expect(ir.params.map((p) => [p.name, p.kind, p.type, p.default, p.constrained, p.cell])).toEqual([
      ['epochs', 'number', 'number', 10, false, 1],
      ['lr', 'number', 'number', 0.05, false, 1],
      ['offset', 'number', 'number', -3, false, 1],
      ['name', 'string', 'string', 'run', false, 1],
      ['quoted', 'string', 'string', 'single', false, 1],
      ['verbose', 'boolean', 'boolean', false, false, 1],
      ['layers', 'json', 'number[]', [64, 32], false, 1],
      ['opts', 'json', '{ depth: number; kind: string; }', { depth: 2, kind: 'tree' }, false, 1],
      ['nothing', 'json', 'any', null, false, 1],
      ['mode', 'string', '"fast" | "slow"', 'fast', false, 1]
    ]);
  });

  it('reads param(name, zodSchema, default) as a constrained parameter', () => {
    const { ir } = compileOk([
      SETUP,
      code('const epochs = param("epochs", z.number().int().min(1), 200);\nconst split = param("split", z.enum(["a", "b"]), "a");\nconst seed = 42;', { role: 'parameters' }),
      code('console.log(epochs, split, seed);', { task: 'a' })
    ]);
    expect(ir.params).toEqual([
      { name: 'epochs', kind: 'number', type: 'number', default: 200, constrained: true, cell: 1 },
      { name: 'split', kind: 'string', type: '"a" | "b"', default: 'a', constrained: true, cell: 1 },
      { name: 'seed', kind: 'number', type: 'number', default: 42, constrained: false, cell: 1 }
    ]);
    // The parameters module evaluates param() (so the schema runs) and returns every parameter.
    expect(ir.paramsModule).toContain('.param)("epochs", zod_1.z.number().int().min(1), 200)');
    expect(ir.paramsModule).toContain('__cg.param("seed", 42)');
    expect(ir.paramsModule).toMatch(/return \{ epochs: epochs, split: split, seed: seed \}/);
  });

  it('records which parameters each task reads', () => {
    const { ir } = compileOk([
      code('const a = 1;\nconst b = 2;\nconst c = 3;', { role: 'parameters' }),
      code('const x = b + a;', { task: 'one' }),
      code('const y = x;', { task: 'two' }),
      code('const z = c;', { task: 'three' })
    ]);
    expect(ir.tasks.map((t) => [t.name, t.params])).toEqual([
      ['one', ['a', 'b']],
      ['two', []],
      ['three', ['c']]
    ]);
  });

  it('rewrites literal parameters to read the run value in task modules', () => {
    const { ir } = compileOk([code('const epochs = 10;', { role: 'parameters' }), code('const e = epochs * 2;', { task: 'a' })]);
    expect(ir.tasks[0].module).toContain('const epochs = __cg.param("epochs", 10);');
  });

  it('accepts a cell tagged `parameters` (papermill) as the parameters cell', () => {
    const cell = { cell_type: 'code' as const, source: 'const alpha = 0.5;', metadata: { tags: ['parameters'] } };
    const { ir } = compileOk([cell, code('const a = alpha;', { task: 'a' })]);
    expect(ir.params.map((p) => [p.name, p.default])).toEqual([['alpha', 0.5]]);
  });

  it('has no params without a parameters cell', () => {
    expect(compileOk([code('const a = 1;', { task: 'a' })]).ir.params).toEqual([]);
  });
});

describe('parameter errors', () => {
  it.each([
    ['let epochs = 10;', 1, 1, /only `const` declarations/],
    ['const a = 1;\nconsole.log(a);', 2, 1, /only `const` declarations/],
    ['const now = Date.now();', 1, 13, /parameter "now" must be initialized with a literal or param/],
    ['const x = 1;\n  const y = [1, Math.PI];', 2, 13, /parameter "y" must be initialized with a literal/],
    ['const e = param("epochs", z.number(), 1);', 1, 11, /first argument must be the string "e"/],
    ['const e = param("e", z.number(), Date.now());', 1, 11, /the default must be a literal/],
    ['const { a } = { a: 1 };', 1, 7, /each parameter is/]
  ])('refuses %j at line %d column %d', (source, line, column, message) => {
    const errors = compileErrors([SETUP, code(source, { role: 'parameters' }), code('console.log(1);', { task: 'a' })]);
    const param = errors.filter((d) => d.code === 'parameter');
    expect(param).toEqual([expect.objectContaining({ severity: 'error', cell: 1, line, column, message: expect.stringMatching(message) })]);
  });

  it('refuses a second parameters cell', () => {
    const errors = compileErrors([code('const a = 1;', { role: 'parameters' }), code('const b = 2;', { role: 'parameters' }), code('console.log(a);', { task: 't' })]);
    expect(errors).toEqual([expect.objectContaining({ code: 'parameter', cell: 1, field: 'cellgraph.role', message: expect.stringContaining('cell 0 is already the parameters cell') })]);
  });

  it('refuses a parameter computed from a setup value', () => {
    const errors = compileErrors([code('const BASE = 10;', { role: 'setup' }), code('const n = BASE;', { role: 'parameters' }), code('console.log(n);', { task: 't' })]);
    expect(errors.map((d) => [d.code, d.cell, d.line, d.column])).toContainEqual(['parameter', 1, 1, 11]);
  });

  it('refuses a parameter default of the wrong type for its annotation', () => {
    const errors = compileErrors([code('const n: number = "ten";', { role: 'parameters' }), code('console.log(n);', { task: 't' })]);
    expect(errors).toEqual([expect.objectContaining({ code: 'type-error', cell: 0, line: 1, column: 7 })]);
  });
});
