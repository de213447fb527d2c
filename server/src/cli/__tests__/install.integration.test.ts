/**
 * cellgraph installed the way a user outside this repository installs it: the three npm
 * packages as `npm pack` makes them, installed into a fresh directory under the system's
 * temporary directory with `npm install` (no hand-made package.json). A notebook in a
 * subfolder imports @cellgraph/kernel and reads a data file next to it; it runs through the
 * installed `cellgraph` and, cell by cell, in tslab with the kernel's working directory in
 * that subfolder (how JupyterLab starts it). A folder outside any project fails with the hint
 * and works after `cellgraph init`.
 *
 * Slow the first time (npm compiles better-sqlite3 for the fresh install); npm's cache is reused.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

jest.setTimeout(900_000);

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const PACKAGES = ['schema', 'kernel-lib', 'server'];
// tslab itself is not what is under test (any install works the same: it resolves imports
// from the kernel's working directory, not from where it is installed): the repository's.
const TSLAB = path.dirname(require.resolve('tslab/package.json'));

let work: string;
let tarballs: string[];
let project: string;

function run(cmd: string, args: string[], opts: SpawnSyncOptions): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function mustRun(cmd: string, args: string[], opts: SpawnSyncOptions): string {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** The notebook (imports @cellgraph/kernel, reads data.json next to it) the install-outside UI test uses too. */
const ANALYSIS = path.join(REPO, 'ui-tests', 'install-outside', 'analysis');

function writeAnalysis(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['notebook.ipynb', 'data.json']) fs.copyFileSync(path.join(ANALYSIS, f), path.join(dir, f));
}

/** Feeds a notebook's code cells to tslab's converter and executor in `cwd`, as the kernel does. */
const TSLAB_DRIVER = `
const fs = require('fs'), path = require('path');
const [tslab, notebook] = process.argv.slice(2);
const { createConverter } = require(path.join(tslab, 'dist', 'converter.js'));
const { createExecutor } = require(path.join(tslab, 'dist', 'executor.js'));
const conv = createConverter({ isJS: false, isBrowser: false });
const convs = { node: conv, browser: conv, close() { conv.close(); } };
const executor = createExecutor(process.cwd(), convs, { log: console.log, error: console.error });
(async () => {
  for (const cell of JSON.parse(fs.readFileSync(notebook, 'utf8')).cells) {
    if (cell.cell_type !== 'code') continue;
    if (!(await executor.execute([].concat(cell.source).join('')))) { process.exitCode = 1; break; }
  }
  executor.close();
  convs.close();
})();
`;

function inTslab(dir: string): { code: number; stdout: string; stderr: string } {
  const driver = path.join(work, 'tslab-driver.js');
  fs.writeFileSync(driver, TSLAB_DRIVER);
  return run(process.execPath, [driver, TSLAB, 'notebook.ipynb'], { cwd: dir });
}

/** The installed CLI, with a state dir of its own so it never sees the developer's homes. */
function cellgraph(cwd: string, ...args: string[]) {
  return run(path.join(project, 'node_modules', '.bin', 'cellgraph'), args, { cwd, env: { ...process.env, XDG_STATE_HOME: path.join(work, 'xdg'), CELLGRAPH_HOME: '' } });
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-install-'));
  if (path.relative(REPO, work).split(path.sep)[0] !== '..') throw new Error(`${work} is inside the repository`);
  const packs = path.join(work, 'packs');
  fs.mkdirSync(packs);
  tarballs = PACKAGES.map((p) => {
    const out = JSON.parse(mustRun('npm', ['pack', '--json', '--pack-destination', packs], { cwd: path.join(REPO, p) })) as { filename: string }[];
    return path.join(packs, out[0].filename);
  });
  project = path.join(work, 'project');
  fs.mkdirSync(project);
  mustRun('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: project });
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it('the packed packages hold their build only, with the CLI and real dependency versions', () => {
  for (const tgz of tarballs) {
    const files = mustRun('tar', ['-tzf', tgz], {}).split('\n').filter(Boolean);
    expect(files.filter((f) => /\/dist\/(bench|dev-services|test-support)\/|__tests__|\.map$|\/src\//.test(f))).toEqual([]);
    expect(files).toContain('package/package.json');
  }
  const server = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', '@cellgraph', 'server', 'package.json'), 'utf8')) as { bin: Record<string, string>; dependencies: Record<string, string> };
  expect(server.bin.cellgraph).toBe('bin/cellgraph');
  expect(server.dependencies['@cellgraph/kernel']).toMatch(/^\^?\d+\.\d+\.\d+$/);
  expect(server.dependencies['@cellgraph/schema']).toMatch(/^\^?\d+\.\d+\.\d+$/);
  // npm wrote the project's package.json: the user wrote none.
  expect(Object.keys((JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')) as { dependencies: object }).dependencies)).toEqual(
    expect.arrayContaining(['@cellgraph/server'])
  );
});

it('a notebook in a subfolder of the project imports @cellgraph/kernel and reads its data: cellgraph run and tslab', () => {
  const analysis = path.join(project, 'analysis');
  writeAnalysis(analysis);
  const r = cellgraph(project, 'run', 'analysis/notebook.ipynb', '--json');
  expect(r).toMatchObject({ code: 0 });
  const summary = JSON.parse(r.stdout) as { status: string; tasks: { name: string; status: string; metrics?: Record<string, unknown> }[] };
  expect(summary.status).toBe('succeeded');
  expect(summary.tasks.find((t) => t.name === 'sum')?.metrics).toEqual({ total: 23 });

  const k = inTslab(analysis);
  expect(k.stderr).toBe('');
  expect(k).toMatchObject({ code: 0, stdout: expect.stringContaining('total is 23') });
});

it('a folder outside any project fails with what to run, and works after cellgraph init', () => {
  const lone = path.join(work, 'elsewhere', 'notes');
  writeAnalysis(lone);
  const before = cellgraph(lone, 'validate', 'notebook.ipynb');
  expect(before.code).toBe(1);
  expect(before.stderr).toContain("Cannot find module '@cellgraph/kernel'");
  expect(before.stderr).toContain('run `cellgraph init` in the folder JupyterLab starts in');
  expect(inTslab(lone).code).not.toBe(0);

  expect(cellgraph(lone, 'init')).toMatchObject({ code: 0, stdout: expect.stringContaining('linked node_modules/@cellgraph/kernel') });
  expect(cellgraph(lone, 'run', 'notebook.ipynb')).toMatchObject({ code: 0 });
  const k = inTslab(lone);
  expect(k.stderr).toBe('');
  expect(k).toMatchObject({ code: 0, stdout: expect.stringContaining('total is 23') });
});
