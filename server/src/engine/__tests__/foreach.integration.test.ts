/**
 * Dynamic tasks end to end on the embedded default (compiler -> engine -> local executor
 * child processes -> filesystem store + SQLite): foreach elements, their cache, retries,
 * parallelism bound and partial failure; conditions and trigger rules; resume.
 * Requires `tsc -b` first (the test command does it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeValue } from '@cellgraph/kernel';
import { Notebook, RunSummary, WorkflowIR, executedNotebookKey } from '@cellgraph/schema';
import { compileNotebook } from '../../compiler';
import { LocalExecutor } from '../../executors/local/local-executor';
import { SqliteStateStore } from '../../state/sqlite-state-store';
import { FilesystemStore } from '../../stores';
import { TestCell, code, linkNodeModules, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { Engine } from '../engine';
import { readElementRecords } from '../element-records';

jest.setTimeout(180_000);

let dir: string;
let store: FilesystemStore;
let state: SqliteStateStore;
let engine: Engine;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-foreach-'));
  linkNodeModules(dir);
  store = new FilesystemStore(path.join(dir, '.cellgraph'));
  state = SqliteStateStore.open(path.join(dir, '.cellgraph', 'state.db'));
  engine = new Engine({ store, storeConfig: { kind: 'filesystem', root: store.root }, state, executor: new LocalExecutor({ store }), concurrency: 2, backoff: { baseMs: 20, maxMs: 50 } });
});

afterEach(async () => {
  await state.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function compiled(cells: TestCell[]): { ir: WorkflowIR; text: string } {
  const text = notebookText(cells);
  const result = compileNotebook({ path: path.join(dir, 'test.ipynb'), text });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => `${d.code} cell ${d.cell}: ${d.message}`).join('\n'));
  return { ir: result.ir, text };
}

async function run(cells: TestCell[], params?: Record<string, unknown>): Promise<RunSummary> {
  const { ir, text } = compiled(cells);
  const handle = await engine.startRun({ ir, notebookText: text, notebookPath: path.join(dir, 'test.ipynb'), workDir: dir, params });
  return handle.done;
}

async function output(summary: RunSummary, task: string, name: string): Promise<unknown> {
  const record = (await state.getTaskRuns(summary.runId)).find((t) => t.task === task);
  const ref = record?.outputs.find((o) => o.name === name);
  if (ref === undefined) throw new Error(`no output ${task}.${name}`);
  return decodeValue(await store.getBlob(ref));
}

const task = (summary: RunSummary, name: string) => summary.tasks.find((t) => t.name === name);

/** A sweep: `n` configurations, squared one element per process, then summed. */
function sweep(n: number, extra: Record<string, unknown> = {}): TestCell[] {
  return [
    code(`const n = ${n};`, { role: 'parameters' }),
    code('const items = Array.from({ length: n }, (_, i) => ({ id: i, x: i + 1 }));', { task: 'make' }),
    code('const square = item.x * item.x;\nconsole.log(`element ${item.id}`);', { task: 'square', foreach: 'items', as: 'item', ...extra }),
    code('const total = square.reduce((s, v) => s + v, 0);', { task: 'sum' })
  ];
}

it('runs one attempt per element and hands downstream each output as a list in element order', async () => {
  const summary = await run(sweep(5, { maxParallel: 2 }));
  expect(summary.status).toBe('succeeded');
  expect(task(summary, 'square')).toMatchObject({ status: 'succeeded', elements: { total: 5, succeeded: 5, cached: 0, failed: 0, running: 0, pending: 0 } });
  expect(task(summary, 'square')?.outputs).toEqual([{ name: 'square', type: 'number[]' }]);
  expect(await output(summary, 'square', 'square')).toEqual([1, 4, 9, 16, 25]);
  expect(await output(summary, 'sum', 'total')).toBe(55);
  const nb = Notebook.parse(JSON.parse((await store.getFile(executedNotebookKey(summary.runId))).toString()));
  // Found by its source: the executed notebook also carries an injected-parameters cell.
  const squareCell = nb.cells.find((c) => [c.source].flat().join('').startsWith('const square'));
  const shown = JSON.stringify(squareCell?.outputs);
  expect(shown).toContain('foreach item of items: 5 elements, 5 succeeded, 0 cached, 0 failed; the outputs below are elements 0, 1, 2');
  // The first few elements' outputs, each under its own line, in element order; no more.
  const text = (squareCell?.outputs ?? []).map((o) => ('text' in o ? [o.text].flat().join('') : '')).join('');
  expect(text).toMatch(/── element 0 ──\nelement 0\n── element 1 ──\nelement 1\n── element 2 ──\nelement 2\n$/);
});

it('caches per element: nothing changed runs nothing; one element added runs only it', async () => {
  await run(sweep(4));
  const again = await run(sweep(4));
  expect(task(again, 'square')).toMatchObject({ status: 'cached', elements: { total: 4, cached: 4, succeeded: 0 } });
  expect(task(again, 'sum')?.status).toBe('cached');
  const grown = await run(sweep(4), { n: 5 });
  expect(task(grown, 'square')).toMatchObject({ status: 'succeeded', elements: { total: 5, cached: 4, succeeded: 1 } });
  expect(await output(grown, 'sum', 'total')).toBe(55);
});

it('keeps at most maxParallel elements running at once', async () => {
  const cells: TestCell[] = [
    code('import * as fs from "fs";', { role: 'setup' }),
    code('const ids = [0, 1, 2, 3, 4, 5];', { task: 'make' }),
    code(
      'const started = Date.now();\nawait new Promise((r) => setTimeout(r, 400));\nconst span = [started, Date.now()];\nfs.writeFileSync(`span-${id}`, JSON.stringify(span));',
      { task: 'wait', foreach: 'ids', as: 'id', maxParallel: 1, cache: false }
    )
  ];
  engine = new Engine({ store, storeConfig: { kind: 'filesystem', root: store.root }, state, executor: new LocalExecutor({ store }), concurrency: 4 });
  const summary = await run(cells);
  expect(summary.status).toBe('succeeded');
  const spans = [0, 1, 2, 3, 4, 5].map((i) => JSON.parse(fs.readFileSync(path.join(dir, `span-${i}`), 'utf8')) as [number, number]);
  const overlapping = spans.some(([s, e], i) => spans.some(([s2, e2], j) => i !== j && s < e2 && s2 < e));
  expect(overlapping).toBe(false);
});

it('retries a failing element on its own and keeps the others', async () => {
  const cells: TestCell[] = [
    code('import * as fs from "fs";', { role: 'setup' }),
    code('const ids = [0, 1, 2];', { task: 'make' }),
    code(
      'const marker = `tried-${id}`;\nif (id === 1 && !fs.existsSync(marker)) { fs.writeFileSync(marker, "1"); throw new Error("flaky element"); }\nconst doubled = id * 2;',
      { task: 'double', foreach: 'ids', as: 'id', retries: 2 }
    )
  ];
  const summary = await run(cells);
  expect(summary.status).toBe('succeeded');
  expect(await output(summary, 'double', 'doubled')).toEqual([0, 2, 4]);
  expect(fs.existsSync(path.join(store.root, 'runs', summary.runId, 'tasks', 'double', 'element-1', 'attempt-2', 'result.json'))).toBe(true);
});

it('starts no more elements once another task failed, and says how many did not run', async () => {
  const cells: TestCell[] = [
    code('const ids = Array.from({ length: 12 }, (_, i) => i);', { task: 'make' }),
    code('await new Promise((r) => setTimeout(r, 300));\nconst slow = id;', { task: 'slow', foreach: 'ids', as: 'id', maxParallel: 1 }),
    code('await new Promise((r) => setTimeout(r, 200));\nthrow new Error("boom");', { task: 'bad' })
  ];
  const summary = await run(cells);
  expect(summary.status).toBe('failed');
  const slow = task(summary, 'slow');
  expect(slow?.status).toBe('failed');
  expect(slow?.error).toMatch(/the run stopped \(another task failed\) with \d+ of 12 elements not run/);
  expect(slow?.elements?.pending).toBeGreaterThan(0);
});

it('files an element that starts within a second of the last write as running, a second later at most (other replicas list it and read its live log)', async () => {
  const { ir, text } = compiled([
    code('const ids = [0];', { task: 'make' }),
    code('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);\nconst done = id;', { task: 'slow', foreach: 'ids', as: 'id' })
  ]);
  const handle = await engine.startRun({ ir, notebookText: text, notebookPath: path.join(dir, 'test.ipynb'), workDir: dir });
  let finished = false;
  void handle.done.finally(() => (finished = true));
  const seen: string[] = [];
  for (let last = false; !last; ) {
    last = finished; // one more look once the run ended
    const records = await readElementRecords(store, handle.runId, 'slow');
    const now = records === undefined ? 'none' : `${records[0].state}/${records[0].attempts}`;
    if (seen.at(-1) !== now) seen.push(now);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect((await handle.done).status).toBe('succeeded');
  // Before the fix the element went from pending straight to succeeded: its start fell in the throttle's second and was dropped.
  expect(seen).toEqual(['none', 'pending/0', 'running/1', 'succeeded/1']);
});

describe('partial failure', () => {
  const failing = (ratio?: number): TestCell[] => [
    code('const ids = [0, 1, 2, 3];', { task: 'make' }),
    code('if (id === 2) throw new Error("bad element");\nconst label = `#${id}`;', { task: 'label', foreach: 'ids', as: 'id', ...(ratio !== undefined ? { minSuccessRatio: ratio } : {}) }),
    code('const kept = label.filter((l) => l !== undefined).join(",");', { task: 'join' })
  ];

  it('succeeds when the ratio holds; a failed element reads as undefined downstream', async () => {
    const summary = await run(failing(0.75));
    expect(summary.status).toBe('succeeded');
    expect(task(summary, 'label')).toMatchObject({ status: 'succeeded', elements: { total: 4, succeeded: 3, failed: 1 } });
    expect(await output(summary, 'label', 'label')).toEqual(['#0', '#1', undefined, '#3']);
    expect(await output(summary, 'join', 'kept')).toBe('#0,#1,#3');
  });

  it('fails the task (and the run) when more elements fail than the ratio allows, naming the element', async () => {
    const summary = await run(failing());
    expect(summary.status).toBe('failed');
    expect(task(summary, 'label')?.status).toBe('failed');
    expect(task(summary, 'label')?.error).toMatch(/1 of 4 elements failed .*element 2: bad element/);
    expect(task(summary, 'join')?.status).toBe('skipped');
  });
});

describe('foreach over a foreach output (issue 17)', () => {
  it('iterates a list of lists, of tuples and of objects element by element, in element order', async () => {
    const summary = await run([
      code('const ids: number[] = [3, 1, 2];', { task: 'make' }),
      code('const pairs = Array.from({ length: id }, (_, k) => id * 10 + k);\nconst pair: [number, string] = [id, `#${id}`];\nconst rec = { id: id, tags: [String(id), "x"] };', {
        task: 'dup',
        foreach: 'ids',
        as: 'id'
      }),
      code('const n: number = p.length;\nconst head: number = p[0];', { task: 'count', foreach: 'pairs', as: 'p' }),
      code('const label: string = t[1] + ":" + t[0];', { task: 'name', foreach: 'pair', as: 't' }),
      code('const tagCount: number = r.tags.length + r.id;', { task: 'tags', foreach: 'rec', as: 'r' }),
      code('const lengths: string = n.join(",");', { task: 'sum' })
    ]);
    expect(summary.status).toBe('succeeded');
    expect(await output(summary, 'dup', 'pairs')).toEqual([[30, 31, 32], [10], [20, 21]]);
    expect(task(summary, 'count')).toMatchObject({ status: 'succeeded', elements: { total: 3, succeeded: 3, failed: 0 } });
    expect(await output(summary, 'count', 'n')).toEqual([3, 1, 2]);
    expect(await output(summary, 'count', 'head')).toEqual([30, 10, 20]);
    expect(await output(summary, 'name', 'label')).toEqual(['#3:3', '#1:1', '#2:2']);
    expect(await output(summary, 'tags', 'tagCount')).toEqual([5, 3, 4]);
    expect(await output(summary, 'sum', 'lengths')).toBe('3,1,2');
  });

  it("hands a tolerant upstream's failed element on as undefined", async () => {
    const summary = await run([
      code('const ids: number[] = [3, 1, 2];', { task: 'make' }),
      code('if (id === 1) throw new Error("bad element");\nconst pairs = [id, id];', { task: 'dup', foreach: 'ids', as: 'id', minSuccessRatio: 0.5 }),
      code('const n: number = p === undefined ? -1 : p.length;', { task: 'count', foreach: 'pairs', as: 'p' })
    ]);
    expect(summary.status).toBe('succeeded');
    expect(await output(summary, 'dup', 'pairs')).toEqual([[3, 3], undefined, [2, 2]]);
    expect(await output(summary, 'count', 'n')).toEqual([2, -1, 2]);
  });
});

describe('conditions', () => {
  const gated: TestCell[] = [
    code('const threshold = 0.9;', { role: 'parameters' }),
    code('const best = { accuracy: 0.8 };', { task: 'pick' }),
    code('const url = "published";', { task: 'publish', when: 'best.accuracy > threshold' }),
    code('const shout = url.toUpperCase();', { task: 'announce' }),
    code('const note = url ?? "not published";', { task: 'report', trigger: 'none-failed' })
  ];

  it('skips a task whose condition is false, and what depends on it unless it runs on none-failed', async () => {
    const summary = await run(gated);
    expect(summary.status).toBe('succeeded');
    expect(summary.tasks.map((t) => [t.name, t.status])).toEqual([
      ['pick', 'succeeded'],
      ['publish', 'skipped'],
      ['announce', 'skipped'],
      ['report', 'succeeded']
    ]);
    expect(await output(summary, 'report', 'note')).toBe('not published');
    // Why, in the summary (cellgraph run, --json, the API) and in the executed notebook.
    expect(task(summary, 'publish')?.skipReason).toBe('condition false: best.accuracy > threshold');
    expect(task(summary, 'announce')?.skipReason).toBe('upstream task publish was skipped');
    expect(task(summary, 'report')?.skipReason).toBeUndefined();
    const nb = Notebook.parse(JSON.parse((await store.getFile(executedNotebookKey(summary.runId))).toString()));
    const outputsOf = (source: string) => JSON.stringify(nb.cells.find((c) => [c.source].flat().join('').startsWith(source))?.outputs);
    expect(outputsOf('const url')).toContain('cellgraph: task publish was skipped: condition false: best.accuracy > threshold');
    expect(outputsOf('const shout')).toContain('cellgraph: task announce was skipped: upstream task publish was skipped');
  });

  it('runs the task when the condition holds', async () => {
    const summary = await run(gated, { threshold: 0.5 });
    expect(summary.tasks.map((t) => t.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(await output(summary, 'report', 'note')).toBe('published');
  });
});

it('resumes a foreach task left running by a stopped server: finished elements come from the cache', async () => {
  const cells = sweep(3);
  await run(cells);
  const { ir, text } = compiled(cells);
  const runId = 'r-foreach-resumed';
  const now = new Date().toISOString();
  const make = (await state.getTaskRuns((await state.listRuns())[0].id)).find((t) => t.task === 'make');
  await state.createRun(
    { id: runId, workflow: ir.name, version: ir.version, notebookPath: path.join(dir, 'test.ipynb'), params: { n: 3 }, status: 'running', executor: 'local', createdAt: now, startedAt: now },
    ir.tasks.map((t) =>
      t.name === 'make'
        ? { ...(make ?? { task: 'make', attempts: 1, cached: false, outputs: [], metrics: {}, status: 'succeeded' as const }), runId }
        : { runId, task: t.name, status: t.name === 'square' ? ('running' as const) : ('pending' as const), attempts: t.name === 'square' ? 1 : 0, cached: false, outputs: [], metrics: {} }
    )
  );
  const resumed = await engine.resumeRun({ ir, notebookText: text, workDir: dir, run: await state.getRun(runId), tasks: await state.getTaskRuns(runId) });
  const summary = await resumed.done;
  expect(summary.status).toBe('succeeded');
  expect(task(summary, 'square')).toMatchObject({ status: 'cached', elements: { total: 3, cached: 3 } });
  expect(await output(summary, 'sum', 'total')).toBe(14);
});
