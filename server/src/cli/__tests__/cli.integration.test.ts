/**
 * The `cellgraph` command as users run it: the built CLI in a child process, against
 * notebooks in a temporary directory. Covers exit codes, JSON shapes and the bad-input
 * corpus (every broken notebook gets a clear error and writes nothing outside .cellgraph/).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunSummary } from '@cellgraph/schema';
import { TestCell, code, linkNodeModules, notebookText } from '@cellgraph/dev/test-support/notebooks';

jest.setTimeout(120_000);

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli', 'main.js');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cli-'));
  linkNodeModules(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function cellgraph(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_CACHE_DIR: path.join(dir, 'xdg', 'cache'), CELLGRAPH_HOME: '' }
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, content: string | TestCell[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : notebookText(content));
  return file;
}

/** Every file under dir except the notebooks we wrote, .cellgraph/ and the XDG state dir. */
function strayFiles(keep: string[]): string[] {
  return fs.readdirSync(dir).filter((f) => !keep.includes(f) && f !== '.cellgraph' && f !== 'xdg' && f !== 'node_modules');
}

const hello: TestCell[] = [
  code('const name = "world";', { role: 'parameters' }),
  code('const message = `hello ${name}`;\nconsole.log(message);', { task: 'greet' }),
  code('const loud: string = message.toUpperCase();', { task: 'shout' })
];

it('validate, graph, run, runs, logs and outputs work together', async () => {
  write('hello.ipynb', hello);
  expect(cellgraph('validate', 'hello.ipynb')).toMatchObject({ code: 0, stdout: expect.stringContaining('2 tasks') });

  const graph = cellgraph('graph', 'hello.ipynb', '--json');
  expect(graph.code).toBe(0);
  const g = JSON.parse(graph.stdout);
  expect(g.edges).toEqual([{ from: 'greet', to: 'shout', kind: 'data', values: [{ name: 'message', type: 'string' }] }]);
  expect(g.params).toEqual([expect.objectContaining({ name: 'name', type: 'string', default: 'world' })]);
  expect(cellgraph('graph', 'hello.ipynb', '--dot').stdout).toContain('"greet" -> "shout" [label="message: string"]');

  const run = cellgraph('run', 'hello.ipynb', '-p', 'name=cli', '--json');
  expect(run.code).toBe(0);
  const summary = RunSummary.parse(JSON.parse(run.stdout));
  expect(summary.status).toBe('succeeded');
  expect(summary.tasks.map((t) => [t.name, t.status, t.cached])).toEqual([
    ['greet', 'succeeded', false],
    ['shout', 'succeeded', false]
  ]);
  expect(run.stderr).toMatch(/greet\s+succeeded/);
  expect(fs.existsSync(summary.executedNotebook ?? '')).toBe(true);

  const runs = cellgraph('runs');
  expect(runs.code).toBe(0);
  expect(runs.stdout).toContain(summary.runId);

  const logs = cellgraph('logs', summary.runId, 'greet');
  expect(logs).toMatchObject({ code: 0, stdout: expect.stringContaining('hello cli') });

  const outputs = cellgraph('outputs', summary.runId, 'greet');
  expect(outputs).toMatchObject({ code: 0, stdout: expect.stringContaining("message: string = 'hello cli'") });
  const outputsJson = JSON.parse(cellgraph('outputs', summary.runId, 'greet', '--json').stdout);
  expect(outputsJson.outputs[0]).toMatchObject({ name: 'message', type: 'string' });

  const again = cellgraph('run', 'hello.ipynb', '-p', 'name=cli', '--json');
  expect(JSON.parse(again.stdout).tasks.every((t: { cached: boolean }) => t.cached)).toBe(true);
  expect(strayFiles(['hello.ipynb'])).toEqual([]);
});

it("run and runs RUN show a foreach task's element counts and why a task was skipped, as text and --json", () => {
  write('dyn.ipynb', [
    code('const ids = [1, 2, 3];', { task: 'make' }),
    code('const sq = id * id;', { task: 'square', foreach: 'ids', as: 'id' }),
    code('const total = sq.reduce((a, b) => a + b, 0);', { task: 'sum' }),
    code('const url = "published";', { task: 'publish', when: 'total > 100' }),
    code('const loud = url.toUpperCase();', { task: 'announce' })
  ]);
  const text = cellgraph('run', 'dyn.ipynb');
  expect(text.code).toBe(0);
  expect(text.stdout).toContain('elements square: 3 total, 3 succeeded, 0 cached, 0 failed\n');
  expect(text.stdout).toContain('skipped publish: condition false: total > 100\n');
  expect(text.stdout).toContain('skipped announce: upstream task publish was skipped\n');
  const json = cellgraph('run', 'dyn.ipynb', '--json');
  const summary = RunSummary.parse(JSON.parse(json.stdout));
  const byName = Object.fromEntries(summary.tasks.map((t) => [t.name, t]));
  expect(byName.square.elements).toEqual({ total: 3, succeeded: 0, cached: 3, failed: 0, running: 0, pending: 0 });
  expect(byName.publish).toMatchObject({ status: 'skipped', skipReason: 'condition false: total > 100' });
  expect(byName.announce).toMatchObject({ status: 'skipped', skipReason: 'upstream task publish was skipped' });
  expect(byName.sum.skipReason).toBeUndefined();
  // The same run shown again later, as text and JSON.
  const shown = cellgraph('runs', summary.runId);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toMatch(/square\s+cached/);
  expect(shown.stdout).toContain('elements square: 3 total, 0 succeeded, 3 cached, 0 failed\n');
  expect(shown.stdout).toContain('skipped publish: condition false: total > 100\n');
  expect(RunSummary.parse(JSON.parse(cellgraph('runs', summary.runId, '--json').stdout))).toEqual(summary);
  expect(cellgraph('runs', 'r-nope')).toMatchObject({ code: 2, stderr: expect.stringContaining('run r-nope not found') });
});

it('exits 1 with the failing task and its error when a task fails', () => {
  write('fail.ipynb', [code('throw new Error("boom");\nconst x = 1;', { task: 'bad' })]);
  const r = cellgraph('run', 'fail.ipynb');
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('error bad: boom');
});

it('refuses a local run while CELLGRAPH_DATABASE_URL points at the servers\' shared state (it would hold no lease), and writes nothing', () => {
  write('hello.ipynb', hello);
  const r = spawnSync(process.execPath, [CLI, 'run', 'hello.ipynb'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_HOME: '', CELLGRAPH_DATABASE_URL: 'postgres://cellgraph:s3cret@127.0.0.1:1/none' }
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('CELLGRAPH_DATABASE_URL is set');
  expect(r.stderr).not.toContain('s3cret');
  expect(fs.existsSync(path.join(dir, '.cellgraph'))).toBe(false);
});

it('refuses unknown and mistyped parameters with exit 2, naming the parameter, and runs nothing', () => {
  write('hello.ipynb', hello);
  const unknown = cellgraph('run', 'hello.ipynb', '-p', 'color=red');
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('unknown parameter "color"; this workflow has: name');
  write('typed.ipynb', [code('const rate = 0.1;', { role: 'parameters' }), code('const r = rate * 2;', { task: 'a' })]);
  const typed = cellgraph('run', 'typed.ipynb', '-p', 'rate=fast');
  expect(typed.code).toBe(2);
  expect(typed.stderr).toContain('parameter "rate" (number): must be a number, got "fast"');
  expect(cellgraph('runs').stdout).not.toMatch(/r-\d/);
});

describe('bad-input corpus', () => {
  const corpus: [string, string | TestCell[], RegExp][] = [
    ['malformed.ipynb', '{"nbformat": 4, "cells": [', /notebook-json/],
    ['nbformat3.ipynb', JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] }), /notebook-format/],
    ['unknown-field.ipynb', [code('const a = 1;', { task: 'a', colour: 'red' })], /cell 0 \[cellgraph\]: error annotation: unknown field\(s\): colour/],
    ['traversal.ipynb', [code('const a = 1;', { task: '../../etc/passwd' })], /cell 0 \[cellgraph.task\]: error annotation/],
    ['shell.ipynb', [code('const a = 1;', { task: '$(rm -rf ~)' })], /cell 0 \[cellgraph.task\]: error annotation/],
    ['cycle.ipynb', [code('const a = 1;', { task: 'a', after: ['b'] }), code('const b = 2;', { task: 'b', after: ['a'] })], /cycle/],
    ['missing.ipynb', [code('const b = nothing + 1;', { task: 'b' })], /cell 0 \(task b\):1:\d+: error missing-producer/],
    ['duplicate.ipynb', [code('const a = 1;', { task: 'x' }), code('const a = 2;', { task: 'y' })], /duplicate-declaration/],
    ['function.ipynb', [code('const f = (x: number) => x + 1;', { task: 'x' }), code('const y = f(1);', { task: 'y' })], /not-serializable/],
    ['type-error.ipynb', [code('const a: number = "text";', { task: 'x' })], /cell 0 \(task x\):1:\d+: error type-error/]
  ];
  it.each(corpus)('%s: exit 1, a message naming the cell, nothing written', (name, content, message) => {
    write(name, content);
    const r = cellgraph('validate', name);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    const run = cellgraph('run', name);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(strayFiles([name])).toEqual([]);
    expect(fs.existsSync(path.join(dir, '.cellgraph'))).toBe(false);
    expect(fs.existsSync('/etc/passwd.ipynb')).toBe(false);
  });

  it('reports every error of a notebook at once', () => {
    write('many.ipynb', [code('const a = 1;', { task: 'A' }), code('const b = missing;', { task: 'b' }), code('const c: string = 1;', { task: 'c' })]);
    const r = cellgraph('validate', 'many.ipynb');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/annotation/);
    expect(r.stderr).toMatch(/missing-producer/);
    expect(r.stderr).toMatch(/type-error/);
  });

  it('names a missing notebook file and exits 2', () => {
    const r = cellgraph('run', 'nope.ipynb');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.ipynb: no such file');
  });

  it('refuses a hostile run id', () => {
    const r = cellgraph('logs', '../../etc');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a run id');
  });
});
