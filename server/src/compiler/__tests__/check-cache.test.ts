/**
 * The incremental compiler: each task's type check is reused only while everything it read
 * is unchanged (its code, the setup code, its inputs' types, files on disk, the compiler),
 * so an edit re-checks the tasks it can affect and never returns a stale answer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Diagnostic } from '@cellgraph/schema';
import { compileNotebook } from '..';
import { type CheckCache, DiskCheckCache, MemoryCheckCache } from '../check-cache';
import { TestCell, code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, notebookDir } from './helpers';

afterAll(cleanup);

function compileWith(cache: CheckCache, cells: TestCell[], name = 'incremental.ipynb') {
  return compileNotebook({ path: path.join(notebookDir(), name), text: notebookText(cells) }, { checkCache: cache });
}

function typeErrors(r: ReturnType<typeof compileWith>): Pick<Diagnostic, 'task' | 'cell' | 'line' | 'message'>[] {
  if (r.ok) return [];
  return r.diagnostics.filter((d) => d.code === 'type-error').map((d) => ({ task: d.task, cell: d.cell, line: d.line, message: d.message }));
}

const chain = (producer: string, setup = 'function twice(n: number): number { return 2 * n; }'): TestCell[] => [
  code(setup, { role: 'setup' }),
  code(producer, { task: 'a' }),
  code('const y: number = x * 2;', { task: 'b' }),
  code('const z: number = twice(3);', { task: 'c' })
];

it('re-checks only the edited task when no type downstream changes', () => {
  const cache = new MemoryCheckCache();
  expect(compileWith(cache, chain('const x: number = 1;')).ok).toBe(true);
  expect(cache.stats).toEqual({ hits: 0, misses: 3 });
  expect(compileWith(cache, chain('const x: number = 2;')).ok).toBe(true);
  expect(cache.stats).toEqual({ hits: 2, misses: 4 });
});

it('reports the downstream error when an upstream output type changes', () => {
  const cache = new MemoryCheckCache();
  expect(compileWith(cache, chain('const x: number = 1;')).ok).toBe(true);
  const errors = typeErrors(compileWith(cache, chain('const x: string = "one";')));
  expect(errors).toEqual([expect.objectContaining({ task: 'b', cell: 2, line: 1, message: expect.stringContaining('TS2362') })]);
  // And back: the cached success of b's old file is right again.
  expect(compileWith(cache, chain('const x: number = 1;')).ok).toBe(true);
});

it('re-checks every task when the setup cell changes', () => {
  const cache = new MemoryCheckCache();
  expect(compileWith(cache, chain('const x: number = 1;')).ok).toBe(true);
  const errors = typeErrors(compileWith(cache, chain('const x: number = 1;', 'function twice(n: string): number { return 2 * n.length; }')));
  expect(errors).toEqual([expect.objectContaining({ task: 'c', cell: 3, line: 1, message: expect.stringContaining('TS2345') })]);
  expect(cache.stats.misses).toBe(6);
});

it('re-checks when a local module the notebook imports changes', () => {
  const cache = new MemoryCheckCache();
  const helper = path.join(notebookDir(), 'incremental-helper.ts');
  const cells = [code('import { k } from "./incremental-helper";', { role: 'setup' }), code('const v: number = k + 1;', { task: 'a' })];
  fs.writeFileSync(helper, 'export const k: number = 1;\n');
  expect(compileWith(cache, cells).ok).toBe(true);
  fs.writeFileSync(helper, 'export const k: string = "one, now a string";\n');
  expect(typeErrors(compileWith(cache, cells))).toEqual([expect.objectContaining({ task: 'a', message: expect.stringContaining('TS2322') })]);
});

describe('the cache on disk (the CLI keeps it between processes)', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-checks-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const withError = chain('const x: number = 1;').concat([code('const w: string = 42;', { task: 'd' })]);

  it('answers a new process with the same diagnostics, at the same places', () => {
    const first = new DiskCheckCache(root, 'compiler-1');
    const cold = compileWith(first, withError);
    expect(first.stats).toEqual({ hits: 0, misses: 4 });
    const second = new DiskCheckCache(root, 'compiler-1');
    const warm = compileWith(second, withError);
    expect(second.stats).toEqual({ hits: 4, misses: 0 });
    expect(typeErrors(warm)).toEqual(typeErrors(cold));
    expect(typeErrors(warm)).toEqual([expect.objectContaining({ task: 'd', cell: 4, line: 1, message: expect.stringContaining('TS2322') })]);
  });

  it('never reuses the checks of another compiler version', () => {
    compileWith(new DiskCheckCache(root, 'compiler-1'), withError);
    const upgraded = new DiskCheckCache(root, 'compiler-2');
    compileWith(upgraded, withError);
    expect(upgraded.stats).toEqual({ hits: 0, misses: 4 });
  });

  it('treats a damaged entry as a miss', () => {
    compileWith(new DiskCheckCache(root, 'compiler-1'), withError);
    const entries = fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
    expect(entries).toHaveLength(4);
    for (const e of entries) fs.writeFileSync(path.join(root, e), '{"not": "diagnostics"');
    const again = new DiskCheckCache(root, 'compiler-1');
    expect(typeErrors(compileWith(again, withError))).toHaveLength(1);
    expect(again.stats).toEqual({ hits: 0, misses: 4 });
  });
});
