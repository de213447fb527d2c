/**
 * Compile errors users see: each names the cell, task, line and column (or the annotation
 * field) at fault, and every error is reported, not just the first.
 */
import * as path from 'node:path';
import { Diagnostic, formatDiagnostic } from '@cellgraph/schema';
import { compileNotebook } from '..';
import { TestCell, code, md } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, compile, compileErrors, compileOk, notebookDir } from './helpers';

afterAll(cleanup);

/** The diagnostics without the notebook path, for compact expectations. */
function strip(ds: Diagnostic[]): Omit<Diagnostic, 'notebook'>[] {
  return ds.map(({ notebook: _notebook, ...rest }) => rest);
}

function only(cells: TestCell[]): Omit<Diagnostic, 'notebook'> {
  const ds = compileErrors(cells);
  expect(ds).toHaveLength(1);
  return strip(ds)[0];
}

describe('names and producers', () => {
  it('names cell, task, line and column of a name no task produces', () => {
    expect(
      only([
        code('const a = 1;', { task: 'a' }),
        md('text'),
        code('const x = 1;\nconst b = a + missing;', { task: 'b' })
      ])
    ).toEqual({ severity: 'error', code: 'missing-producer', message: 'no task, setup or parameters cell declares "missing"', cell: 2, task: 'b', line: 2, column: 15 });
  });

  it('reports a name declared by two tasks at the second declaration', () => {
    expect(only([code('const a = 1;', { task: 'a' }), code('const x = 0;\nconst a = 2;', { task: 'b' })])).toEqual({
      severity: 'error',
      code: 'duplicate-declaration',
      message: '"a" is already declared by task a (cell 0); each name must have one producer',
      cell: 1,
      task: 'b',
      line: 2,
      column: 7
    });
  });

  it('reports a name redeclared in a later cell of the same task', () => {
    const d = only([code('let a = 1;', { task: 'a' }), code('let a = 2;')]);
    expect(d).toMatchObject({ code: 'duplicate-declaration', cell: 1, task: 'a', line: 1, column: 5 });
    expect(d.message).toContain('same task');
  });

  it('reports a name declared by a setup cell and a task', () => {
    const d = only([code('const limit = 1;', { role: 'setup' }), code('const limit = 2;', { task: 'a' })]);
    expect(d).toMatchObject({ code: 'duplicate-declaration', cell: 1, task: 'a' });
    expect(d.message).toContain('the setup cell (cell 0)');
  });

  it('points at the skipped cell when a name is only declared there', () => {
    expect(only([code('const a = 1;', { task: 'a' }), code('const explored = 1;', { role: 'skip' }), code('const b = a + explored;', { task: 'b' })])).toEqual({
      severity: 'error',
      code: 'skipped-producer',
      message: '"explored" is declared only in cell 1, which is skipped (role skip); move it into a task or setup cell',
      cell: 2,
      task: 'b',
      line: 1,
      column: 15
    });
  });

  it('refuses a task that uses a value a later task declares', () => {
    expect(only([code('const b = c + 1;', { task: 'a' }), code('const c = 1;', { task: 'b' })])).toMatchObject({
      code: 'later-producer',
      cell: 0,
      task: 'a',
      line: 1,
      column: 11,
      message: expect.stringContaining('task b (cell 1)')
    });
  });

  it('refuses a setup cell that reads a task value', () => {
    const ds = compileErrors([code('const a = 1;', { task: 'a' }), code('const s = a;', { role: 'setup' }), code('const b = s;', { task: 'b' })]);
    expect(strip(ds)).toContainEqual(expect.objectContaining({ code: 'setup-uses-task-value', cell: 1, line: 1, column: 11 }));
    expect(ds.find((d) => d.code === 'setup-uses-task-value')?.task).toBeUndefined();
  });
});

describe('task graph', () => {
  it('reports a cycle made with `after`, naming the tasks in it', () => {
    expect(only([code('const a = 1;', { task: 'a', after: ['b'] }), code('const b = a;', { task: 'b' })])).toEqual({
      severity: 'error',
      code: 'cycle',
      message: 'tasks form a cycle: a -> b -> a; check their "after" lists',
      cell: 0,
      task: 'a',
      field: 'cellgraph.after'
    });
  });

  it('reports a longer cycle of ordering edges only', () => {
    const d = only([
      code('1', { task: 'x' }),
      code('2', { task: 'a', after: ['c'] }),
      code('3', { task: 'b', after: ['a'] }),
      code('4', { task: 'c', after: ['b'] })
    ]);
    expect(d.code).toBe('cycle');
    expect(d.message).toMatch(/a -> b -> c -> a/);
    expect(d.message).not.toMatch(/\bx\b/);
  });

  it('reports a task that lists itself in `after`', () => {
    expect(only([code('1', { task: 'a', after: ['a'] })])).toMatchObject({ code: 'cycle', message: expect.stringContaining('a -> a') });
  });

  it('reports `after` naming a task that does not exist, with the field path', () => {
    expect(only([code('1', { task: 'a' }), code('2', { task: 'b', after: ['a', 'nope'] })])).toEqual({
      severity: 'error',
      code: 'unknown-after',
      message: '"after" names task "nope", which this notebook does not define',
      cell: 1,
      task: 'b',
      field: 'cellgraph.after.1'
    });
  });

  it('reports duplicate task names at the second one', () => {
    expect(only([code('1', { task: 'train' }), code('2', { task: 'train' })])).toEqual({
      severity: 'error',
      code: 'duplicate-task',
      message: 'task "train" is already started by cell 0; task names must be unique',
      cell: 1,
      task: 'train',
      field: 'cellgraph.task'
    });
  });

  it('refuses a notebook with no task', () => {
    expect(only([code('const a = 1;'), md('hi')])).toMatchObject({ code: 'no-tasks' });
  });
});

describe('annotations', () => {
  it.each([['../../etc/passwd'], ['$(rm -rf ~)'], ['Train'], ['1st'], [''], ['a'.repeat(64)], ['a b'], ['a/b']])('refuses the task name %j', (name) => {
    const ds = compileErrors([code('const x = 1;', { task: name }), code('const y = 2;', { task: 'ok' })]);
    expect(strip(ds)).toEqual([expect.objectContaining({ severity: 'error', code: 'annotation', cell: 0, field: 'cellgraph.task' })]);
  });

  it('refuses unsafe names in `after` too', () => {
    const ds = compileErrors([code('1', { task: 'a' }), code('2', { task: 'b', after: ['../a'] })]);
    expect(strip(ds)).toEqual([expect.objectContaining({ code: 'annotation', cell: 1, field: 'cellgraph.after.0' })]);
  });

  it('names an unknown annotation field', () => {
    const d = only([code('1', { task: 'a', retry: 3 }), code('2', { task: 'ok' })]);
    expect(d).toMatchObject({ code: 'annotation', cell: 0, message: 'unknown field(s): retry' });
    expect(d.field).toMatch(/^cellgraph/);
  });

  it.each([
    [{ task: 'a', retries: -1 }, 'cellgraph.retries'],
    [{ task: 'a', retries: 'three' }, 'cellgraph.retries'],
    [{ task: 'a', timeoutSeconds: 0 }, 'cellgraph.timeoutSeconds'],
    [{ task: 'a', resources: { cpu: 'lots' } }, 'cellgraph.resources.cpu'],
    [{ task: 'a', resources: { memory: '2 gigs' } }, 'cellgraph.resources.memory'],
    [{ task: 'a', env: { 'not-an-env': 'x' } }, 'cellgraph.env.not-an-env'],
    [{ task: 'a', after: 'b' }, 'cellgraph.after'],
    [{ task: 'a', version: 2 }, 'cellgraph.version'],
    [{ role: 'teardown' }, 'cellgraph.role'],
    [{ colour: 'red' }, 'cellgraph']
  ])('names the field path of a bad annotation %j', (annotation, field) => {
    const ds = compileErrors([code('1', annotation), code('2', { task: 'ok' })]);
    expect(ds.length).toBeGreaterThan(0);
    for (const d of ds) expect(d).toMatchObject({ code: 'annotation', cell: 0 });
    expect(ds.map((d) => d.field)).toContain(field);
  });

  it('refuses annotation metadata that is not a JSON object', () => {
    const cell = { cell_type: 'code' as const, source: '1', metadata: { cellgraph: '{"task": "a"' } };
    expect(only([cell, code('2', { task: 'ok' })])).toMatchObject({ code: 'annotation', cell: 0, field: 'cellgraph' });
  });

  it('does not cascade errors from the cells that follow a bad annotation', () => {
    // Cell 1 would continue the broken task; it is left out rather than blamed.
    const ds = compileErrors([code('const a = 1;', { task: 'Bad' }), code('const b = a + 1;'), code('const c = 2;', { task: 'ok' })]);
    expect(strip(ds)).toEqual([expect.objectContaining({ code: 'annotation', cell: 0 })]);
  });
});

describe('notebook file', () => {
  it('reports invalid JSON with a line and column', () => {
    const r = compileNotebook({ path: path.join(notebookDir(), 'broken.ipynb'), text: '{\n  "cells": [\n    oops\n  ]\n}' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'notebook-json', line: 3, column: 5 })]);
  });

  it.each([
    ['{"cells": [1,]}', 1, 14],
    ['{\n "cells": [\n', 3, 1],
    ["{\n \"cells\": 'x'\n}", 2, 11],
    ['{"cells": [] } trailing', 1, 16]
  ])('locates the JSON error in %j', (text, line, column) => {
    const r = compileNotebook({ path: path.join(notebookDir(), 'broken.ipynb'), text });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'notebook-json', line, column })]);
  });

  it('reports a JSON document that is not an nbformat 4 notebook', () => {
    const r = compileNotebook({ path: path.join(notebookDir(), 'broken.ipynb'), text: JSON.stringify({ nbformat: 4, cells: [{ cell_type: 'code' }] }) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(r.diagnostics.every((d) => d.code === 'notebook-format')).toBe(true);
  });
});

describe('type errors', () => {
  it('reports a type error with cell index, line and column relative to the cell', () => {
    const ds = compileErrors([
      code('import { z } from "zod";', { role: 'setup' }),
      md('# heading'),
      code('const n: number = 1;', { task: 'a' }),
      code('const ok = n + 1;\n\n  const s: string = n;', { task: 'b' })
    ]);
    expect(strip(ds)).toEqual([
      { severity: 'error', code: 'type-error', message: "TS2322: Type 'number' is not assignable to type 'string'.", cell: 3, task: 'b', line: 3, column: 9 }
    ]);
  });

  it('reports every type error, across cells and tasks, in notebook order', () => {
    const ds = compileErrors([
      code('const a: number = 1;', { task: 'a' }),
      code('const s: string = a;\nconst t: number = "x";', { task: 'b' }),
      code('const u = s.toFixed(2);'),
      code('const v: boolean = 1;', { task: 'c' })
    ]);
    expect(strip(ds).map((d) => [d.code, d.cell, d.task, d.line, d.column])).toEqual([
      ['type-error', 1, 'b', 1, 7],
      ['type-error', 1, 'b', 2, 7],
      ['type-error', 2, 'b', 1, 13],
      ['type-error', 3, 'c', 1, 7]
    ]);
    expect(ds[2].message).toMatch(/Property 'toFixed' does not exist on type 'string'/);
  });

  it('reports a type error in a setup cell without a task', () => {
    const ds = compileErrors([code('const limit: number = "ten";', { role: 'setup' }), code('const a = limit;', { task: 'a' })]);
    expect(strip(ds)).toEqual([expect.objectContaining({ code: 'type-error', cell: 0, line: 1, column: 7 })]);
    expect(ds[0].task).toBeUndefined();
  });

  it('reports errors of different kinds together rather than stopping at the first', () => {
    const ds = compileErrors([
      code('const a = 1;', { task: 'a', after: ['ghost'] }),
      code('const b: string = a;\nconst c = nowhere;', { task: 'b' }),
      code('1', { task: 'b' })
    ]);
    expect(ds.map((d) => d.code).sort()).toEqual(['duplicate-task', 'missing-producer', 'type-error', 'unknown-after']);
  });
});

it('every diagnostic fits the schema and formats with its position', () => {
  const ds = compileErrors([code('const a = 1;', { task: 'a' }), code('const b: string = a + missing;', { task: 'b' })]);
  for (const d of ds) expect(Diagnostic.parse(d)).toEqual(d);
  expect(ds.map(formatDiagnostic)).toContain(`${path.join(notebookDir(), 'test.ipynb')}: cell 1 (task b):1:23: error missing-producer: no task, setup or parameters cell declares "missing"`);
});

it('compiles a notebook with no problems to no warnings', () => {
  expect(compileOk([code('const a = 1;', { task: 'a' }), code('const b = a + 1;', { task: 'b' })]).warnings).toEqual([]);
  expect(compile([code('const a = 1;', { task: 'a' })]).ok).toBe(true);
});
