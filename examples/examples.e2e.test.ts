/**
 * End to end: each example notebook runs through the `cellgraph` CLI exactly as the README
 * shows, on the embedded default (local executor, filesystem store, SQLite). Each test
 * works on a copy of the example in a temporary directory, so the repository stays clean.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { RunSummary } from '@cellgraph/schema';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'server', 'dist', 'cli', 'main.js');
let dir: string;

afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of examples/<name> in a temp dir, with the repository's node_modules linked in. */
function copyExample(name: string): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `cg-e2e-${name}-`));
  fs.cpSync(path.join(__dirname, name), dir, { recursive: true, filter: (src) => !/[\\/](out|\.cellgraph)$/.test(src) });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Runs the CLI asynchronously, so an HTTP server in this process can answer the notebook. */
function cellgraph(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: { ...process.env, XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_HOME: '' }
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function runJson(...args: string[]): Promise<RunSummary> {
  const r = await cellgraph('run', ...args, '--json');
  if (r.code !== 0) throw new Error(`cellgraph run ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return RunSummary.parse(JSON.parse(r.stdout));
}

function task(summary: RunSummary, name: string) {
  const t = summary.tasks.find((x) => x.name === name);
  if (!t) throw new Error(`no task ${name} in ${summary.tasks.map((x) => x.name).join(', ')}`);
  return t;
}

interface CodeCell {
  cell_type: string;
  metadata?: { cellgraph?: { task?: string }; tags?: string[] };
  outputs?: { output_type: string; text?: string; data?: Record<string, unknown>; ename?: string }[];
}

function executedCells(summary: RunSummary): CodeCell[] {
  if (!summary.executedNotebook) throw new Error('the run has no executed notebook');
  return (JSON.parse(fs.readFileSync(summary.executedNotebook, 'utf8')) as { cells: CodeCell[] }).cells;
}

describe('hello', () => {
  it('runs with a parameter, caches, and the executed notebook carries the outputs', async () => {
    copyExample('hello');
    const first = await runJson('hello.ipynb', '-p', 'name=cellgraph', '-p', 'excitement=2');
    expect(first.status).toBe('succeeded');
    expect(first.params).toEqual({ name: 'cellgraph', excitement: 2 });
    expect(task(first, 'shout').outputs).toEqual([{ name: 'shouted', type: 'string' }]);

    const outputs = await cellgraph('outputs', first.runId, 'shout', '--json');
    expect(JSON.parse(outputs.stdout).outputs[0].value).toBe('HELLO, CELLGRAPH!!');

    const cells = executedCells(first);
    // Found by its tag: papermill's injected-parameters cell comes after the parameters cell.
    expect(cells[2].metadata?.tags).toEqual(['injected-parameters']);
    const shoutOutputs = cells.find((c) => c.metadata?.cellgraph?.task === 'shout')?.outputs ?? [];
    expect(shoutOutputs).toContainEqual(expect.objectContaining({ output_type: 'display_data', data: { 'text/html': '<h3>HELLO, CELLGRAPH!!</h3>' } }));

    const again = await runJson('hello.ipynb', '-p', 'name=cellgraph', '-p', 'excitement=2');
    expect(again.tasks.map((t) => t.cached)).toEqual([true, true]);
  });
});

describe('iris', () => {
  it('trains two models in parallel branches, compares them, and re-runs only what a parameter touches', async () => {
    copyExample('iris');
    const first = await runJson('iris.ipynb');
    expect(first.status).toBe('succeeded');
    expect(first.tasks.map((t) => t.name)).toEqual(expect.arrayContaining(['load', 'split', 'knn', 'softmax', 'compare']));
    const metrics = task(first, 'compare').metrics;
    expect(metrics.knn_accuracy).toBeGreaterThan(0.85);
    expect(metrics.softmax_accuracy).toBeGreaterThan(0.85);
    expect(task(first, 'split').outputs).toEqual(
      expect.arrayContaining([{ name: 'trainSet', type: 'Flower[]' }, { name: 'testSet', type: 'Flower[]' }])
    );

    const cached = await runJson('iris.ipynb');
    expect(cached.tasks.every((t) => t.cached)).toBe(true);

    // epochs only feeds softmax: k-NN and everything upstream come from the cache.
    const fewer = await runJson('iris.ipynb', '-p', 'epochs=20');
    const reran = fewer.tasks.filter((t) => !t.cached).map((t) => t.name).sort();
    expect(reran).toContain('softmax');
    expect(reran).not.toContain('knn');
    expect(reran).not.toContain('load');
    expect(reran).not.toContain('split');
  });

  it('rejects bad parameters before any task starts', async () => {
    copyExample('iris');
    const outOfRange = await cellgraph('run', 'iris.ipynb', '-p', 'epochs=0');
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.stderr).toContain('epochs');
    const wrongType = await cellgraph('run', 'iris.ipynb', '-p', 'seed=forty-two');
    expect(wrongType.code).toBe(2);
    expect(wrongType.stderr).toContain('seed');
    const unknown = await cellgraph('run', 'iris.ipynb', '-p', 'learningrate=0.5');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('learningrate');
    expect(fs.existsSync(path.join(dir, '.cellgraph', 'runs'))).toBe(false);
  });
});

describe('sweep', () => {
  it('trains 20 configurations as one foreach task, picks the best, publishes it only when good enough, and caches per element', async () => {
    copyExample('sweep');
    const first = await runJson('sweep.ipynb');
    expect(first.status).toBe('succeeded');
    expect(task(first, 'train')).toMatchObject({ status: 'succeeded', elements: { total: 20, succeeded: 20, cached: 0, failed: 0 } });
    expect(task(first, 'train').outputs).toEqual([{ name: 'evaluation', type: 'Evaluation[]' }]);
    expect(task(first, 'pick').metrics.best_accuracy).toBeGreaterThan(0.9);
    expect(task(first, 'publish').status).toBe('succeeded');
    expect(fs.existsSync(path.join(dir, 'out', 'best-model.json'))).toBe(true);
    const trainCell = executedCells(first).find((c) => c.metadata?.cellgraph?.task === 'train');
    expect(JSON.stringify(trainCell?.outputs)).toContain('foreach config of configs: 20 elements, 20 succeeded');

    // Nothing changed: no element runs again. A bar the best model misses: publish is skipped.
    fs.rmSync(path.join(dir, 'out'), { recursive: true });
    const strict = await runJson('sweep.ipynb', '-p', 'minAccuracy=0.999');
    expect(strict.status).toBe('succeeded');
    expect(task(strict, 'train')).toMatchObject({ status: 'cached', elements: { total: 20, cached: 20 } });
    expect(task(strict, 'publish').status).toBe('skipped');
    expect(fs.existsSync(path.join(dir, 'out', 'best-model.json'))).toBe(false);
  });
});

describe('data-processing', () => {
  let server: http.Server;
  let received: unknown[];
  let requests: number;

  beforeEach(async () => {
    received = [];
    requests = 0;
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        requests += 1;
        // The first delivery fails, so the notify task's retries are exercised for real.
        if (requests === 1) {
          res.writeHead(503).end();
          return;
        }
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('loads new files into SQLite, notifies the webhook in parallel, and loads nothing twice', async () => {
    copyExample('data-processing');
    const port = (server.address() as { port: number }).port;
    const webhook = `webhookUrl=http://127.0.0.1:${port}/hook`;

    const first = await runJson('data-processing.ipynb', '-p', webhook);
    expect(first.status).toBe('succeeded');
    expect(task(first, 'notify').attempts).toBe(2);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ event: 'readings-processed', files: ['readings-2026-11-21.csv', 'readings-2026-11-22.csv', 'readings-2026-11-23.csv'] });

    const db = new Database(path.join(dir, 'out', 'readings.db'), { readonly: true });
    const rows = (db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
    const files = (db.prepare('SELECT COUNT(*) AS n FROM processed_files').get() as { n: number }).n;
    db.close();
    expect(rows).toBeGreaterThan(0);
    expect(files).toBe(3);
    const join = task(first, 'join').metrics;
    expect(join).toMatchObject({ files: 3, rows_saved: rows, rows_total: rows, notified: true });

    // A second run finds no new files: nothing is loaded twice.
    const second = await runJson('data-processing.ipynb', '-p', webhook);
    expect(task(second, 'join').metrics).toMatchObject({ files: 0, rows_saved: 0, rows_total: rows });
    expect(received).toHaveLength(2);
  });
});

it('every example validates with the CLI (the synchronous path the README shows)', () => {
  for (const name of ['hello', 'iris', 'data-processing', 'sweep']) {
    const r = spawnSync(process.execPath, [CLI, 'validate', path.join(__dirname, name, `${name}.ipynb`)], { encoding: 'utf8' });
    expect({ name, code: r.status, stderr: r.stderr }).toEqual({ name, code: 0, stderr: '' });
  }
});
