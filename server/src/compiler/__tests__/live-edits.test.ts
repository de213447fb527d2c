/**
 * The live DAG: a long-lived compile worker compiles the same notebook after every edit,
 * reusing its programs and per-task checks. Each answer must be the one a fresh compile
 * gives: an edit upstream that changes a downstream input's type is reported downstream,
 * a setup edit reaches every task, deleted cells and renamed tasks leave nothing stale.
 */
import * as path from 'node:path';
import { Diagnostic } from '@cellgraph/schema';
import { compileNotebook, type CompileResult } from '..';
import { MemoryCheckCache } from '../check-cache';
import { forgetPrograms } from '../program-reuse';
import { TestCell, code, md, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, notebookDir } from './helpers';

afterAll(cleanup);

/** One notebook edited in place: every compile goes through the process's caches, as in a worker. */
function live(name: string): (cells: TestCell[]) => CompileResult {
  return (cells) => compileNotebook({ path: path.join(notebookDir(), name), text: notebookText(cells) });
}

/** The same compile with nothing kept from earlier ones. */
function fresh(name: string, cells: TestCell[]): CompileResult {
  forgetPrograms();
  return compileNotebook({ path: path.join(notebookDir(), name), text: notebookText(cells) }, { checkCache: new MemoryCheckCache() });
}

function errors(r: CompileResult): Pick<Diagnostic, 'code' | 'task' | 'cell' | 'line' | 'column'>[] {
  if (r.ok) return [];
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ code: d.code, task: d.task, cell: d.cell, line: d.line, column: d.column }));
}

const setup = (param = 'number') => code(`function twice(n: ${param}): number { return 2 * Number(n); }`, { role: 'setup' });

it('reports an upstream edit that changes an inferred output type in the downstream cell, and forgets it once undone', () => {
  const compile = live('propagate.ipynb');
  const cells = (x: string) => [setup(), code(`const x = ${x};`, { task: 'a' }), code('const y: number = x * 2;', { task: 'b' }), code('const z = twice(3);', { task: 'c' })];
  expect(compile(cells('1')).ok).toBe(true);
  expect(errors(compile(cells('"one"')))).toEqual([{ code: 'type-error', task: 'b', cell: 2, line: 1, column: 19 }]);
  const back = compile(cells('2'));
  expect(back.ok && back.ir.tasks.find((t) => t.name === 'b')?.inputs).toEqual([{ name: 'x', type: 'number', from: 'a' }]);
});

it('re-checks every task after a setup edit', () => {
  const compile = live('setup-edit.ipynb');
  const cells = (param: string) => [setup(param), code('const x: number = 1;', { task: 'a' }), code('const z = twice(x);', { task: 'b' })];
  expect(compile(cells('number')).ok).toBe(true);
  expect(errors(compile(cells('string')))).toEqual([{ code: 'type-error', task: 'b', cell: 2, line: 1, column: 17 }]);
});

it('maps a cached error to its cell after a cell above is deleted, and reports a producer deleted', () => {
  const compile = live('delete.ipynb');
  const a = code('const x: number = 1;', { task: 'a' });
  const b = code('const bad: string = 42;', { task: 'b' });
  const c = code('const y: number = x + 1;', { task: 'c' });
  expect(errors(compile([setup(), a, md('notes'), b, c]))).toEqual([{ code: 'type-error', task: 'b', cell: 3, line: 1, column: 7 }]);
  // Task b's check is unchanged (a cache hit); its error moves with its cell.
  expect(errors(compile([setup(), a, b, c]))).toEqual([{ code: 'type-error', task: 'b', cell: 2, line: 1, column: 7 }]);
  expect(errors(compile([setup(), b, c]))).toEqual([
    { code: 'type-error', task: 'b', cell: 1, line: 1, column: 7 },
    { code: 'missing-producer', task: 'c', cell: 2, line: 1, column: 19 }
  ]);
});

it('names the new task after a rename, in edges and errors', () => {
  const compile = live('rename.ipynb');
  const cells = (producer: string, consumer: string, y: string) => [setup(), code('const x: number = 1;', { task: producer }), code(`const y: ${y} = x;`, { task: consumer })];
  expect(compile(cells('a', 'b', 'number')).ok).toBe(true);
  const renamed = compile(cells('source', 'b', 'number'));
  expect(renamed.ok && renamed.ir.edges).toEqual([{ from: 'source', to: 'b', kind: 'data', values: [{ name: 'x', type: 'number' }] }]);
  expect(errors(compile(cells('source', 'sink', 'string')))).toEqual([{ code: 'type-error', task: 'sink', cell: 2, line: 1, column: 7 }]);
});

it('keeps reporting a name no cell declares when the task that reads it is a cache hit', () => {
  const compile = live('missing.ipynb');
  const cells = (extra: string) => [setup(), code(`const x: number = 1;${extra}`, { task: 'a' }), code('const y = x + nowhere;', { task: 'b' })];
  const expected = [{ code: 'missing-producer', task: 'b', cell: 2, line: 1, column: 15 }];
  expect(errors(compile(cells('')))).toEqual(expected);
  expect(errors(compile(cells('\nconst w = 2;')))).toEqual(expected);
  expect(errors(compile(cells('')))).toEqual(expected);
});

it('answers a sequence of edits exactly as fresh compiles do', () => {
  const compile = live('sequence.ipynb');
  const base: TestCell[] = [
    setup(),
    code('const n = 3;', { role: 'parameters' }),
    code('const rows: number[] = [1, 2, n];', { task: 'load' }),
    code('const total = rows.reduce((a, b) => a + b, 0);', { task: 'sum' }),
    code('const label = `total ${total}`;', { task: 'report' }),
    code('const doubled = rows.map(twice);', { task: 'double' })
  ];
  // Each step edits the one before: a type changed upstream, fixed in one consumer, not in another.
  const steps = [base];
  const edit = (i: number, source: string) => steps.push(steps[steps.length - 1].map((c, j) => (j === i ? { ...c, source } : c)));
  edit(2, 'const rows: string[] = ["1"];');
  edit(3, 'const total = rows.length;');
  edit(5, 'const doubled = rows.map((r) => twice(r));\nconst more = doubled.length;');
  edit(4, 'const label: number = total;');
  steps.push(base);
  // The whole sequence first (fresh compiles drop the kept programs), then the references.
  const incremental = steps.map(compile);
  expect(incremental.map((r) => r.ok)).toEqual([true, false, false, false, false, true]);
  steps.forEach((cells, i) => expect(incremental[i]).toEqual(fresh('sequence.ipynb', cells)));
});
