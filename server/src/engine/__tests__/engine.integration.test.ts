/**
 * The engine end to end on the embedded default: compiler -> engine -> local executor
 * (real child processes running the built task entry) -> filesystem store + SQLite.
 * Requires `tsc -b` first (the test command does it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeValue } from '@cellgraph/kernel';
import { Notebook, RunEvent, RunSummary, executedNotebookKey } from '@cellgraph/schema';
import { compileNotebook } from '../../compiler';
import { LocalExecutor } from '../../executors/local/local-executor';
import { SqliteStateStore } from '../../state/sqlite-state-store';
import { FilesystemStore } from '../../stores';
import { TestCell, code, linkNodeModules, md, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { waitFor } from '@cellgraph/dev/test-support/wait-for';
import { Engine, summarizeRun } from '../engine';

jest.setTimeout(120_000);

let dir: string;
let store: FilesystemStore;
let state: SqliteStateStore;
let engine: Engine;
let events: RunEvent[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-engine-'));
  linkNodeModules(dir);
  store = new FilesystemStore(path.join(dir, '.cellgraph'));
  state = SqliteStateStore.open(path.join(dir, '.cellgraph', 'state.db'));
  engine = new Engine({
    store,
    storeConfig: { kind: 'filesystem', root: store.root },
    state,
    executor: new LocalExecutor({ store }),
    concurrency: 2,
    backoff: { baseMs: 20, maxMs: 100 }
  });
  events = [];
  engine.onEvent((e) => events.push(e));
});

afterEach(async () => {
  await state.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(cells: TestCell[], options: { params?: Record<string, unknown>; noCache?: boolean } = {}): Promise<RunSummary> {
  const text = notebookText(cells);
  const compiled = compileNotebook({ path: 'test.ipynb', text });
  if (!compiled.ok) throw new Error(compiled.diagnostics.map((d) => d.message).join('\n'));
  const handle = await engine.startRun({ ir: compiled.ir, notebookText: text, notebookPath: path.join(dir, 'test.ipynb'), workDir: dir, ...options });
  return handle.done;
}

async function executed(runId: string): Promise<Notebook> {
  return Notebook.parse(JSON.parse((await store.getFile(executedNotebookKey(runId))).toString()));
}

const hello: TestCell[] = [
  md('# hello'),
  code('const name = "world";\nconst times = 2;', { role: 'parameters' }),
  code('const message = `hello ${name}`;\nconsole.log(message);', { task: 'greet' }),
  code('const shout = message.toUpperCase().repeat(times);\nshout', { task: 'shout' })
];

it('runs tasks in dependency order, passing typed values, and writes an executed notebook', async () => {
  const summary = await run(hello, { params: { name: 'cellgraph' } });
  expect(summary.status).toBe('succeeded');
  expect(summary.params).toEqual({ name: 'cellgraph', times: 2 });
  const greet = summary.tasks.find((t) => t.name === 'greet');
  expect(greet).toMatchObject({ status: 'succeeded', attempts: 1, cached: false });
  expect(greet?.outputs).toContainEqual({ name: 'message', type: 'string' });
  const nb = await executed(summary.runId);
  const text = (i: number) => JSON.stringify(nb.cells[i].outputs);
  // Papermill's injected-parameters cell follows the parameters cell, so the task cells come one later.
  expect(nb.cells[2]).toMatchObject({ metadata: { tags: ['injected-parameters'] }, source: expect.stringContaining('const name = "cellgraph";') });
  expect(text(3)).toContain('hello cellgraph');
  expect(text(4)).toContain('HELLO CELLGRAPHHELLO CELLGRAPH');
  expect(nb.metadata.cellgraph).toMatchObject({ runId: summary.runId, status: 'succeeded', params: { name: 'cellgraph', times: 2 } });
  expect(events.filter((e) => e.kind === 'run').map((e) => e.status)).toEqual(['queued', 'running', 'succeeded']);
});

it('reuses cached results, and re-runs exactly the edited task and what its changed output feeds', async () => {
  const first = await run(hello);
  expect(first.tasks.every((t) => !t.cached)).toBe(true);
  const second = await run(hello);
  expect(second.tasks.map((t) => t.status)).toEqual(['cached', 'cached']);
  const commentOnly = hello.map((c, i) => (i === 2 ? { ...c, source: `// a comment\n${c.source}` } : c));
  expect((await run(commentOnly)).tasks.map((t) => t.status)).toEqual(['cached', 'cached']);
  const edited = hello.map((c, i) => (i === 2 ? { ...c, source: 'const message = `hi ${name}`;' } : c));
  const third = await run(edited);
  expect(third.tasks.map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
  const nb = await executed(second.runId);
  expect(JSON.stringify(nb.cells[4].outputs)).toContain('HELLO WORLD');
  const noCache = await run(hello, { noCache: true });
  expect(noCache.tasks.map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
});

it('persists noCache with the run and honours it when the run is resumed (restart or failover): no cache hits', async () => {
  await run(hello); // fills the cache
  const text = notebookText(hello);
  const compiled = compileNotebook({ path: 'test.ipynb', text });
  if (!compiled.ok) throw new Error('does not compile');
  const handle = await engine.startRun({ ir: compiled.ir, notebookText: text, notebookPath: path.join(dir, 'test.ipynb'), workDir: dir, noCache: true });
  await handle.done;
  const recorded = await state.getRun(handle.runId);
  expect(recorded.options).toEqual({ noCache: true });
  // As a process killed mid-run leaves it: recorded running, its tasks not done; resumed from the records alone.
  const runId = 'r-resumed-nocache';
  await state.createRun({ ...recorded, id: runId, status: 'running', finishedAt: undefined, executedNotebook: undefined }, compiled.ir.tasks.map((t) => ({ runId, task: t.name, status: 'pending', attempts: 0, cached: false, outputs: [], metrics: {} })));
  const resumed = await engine.resumeRun({ ir: compiled.ir, notebookText: text, workDir: dir, run: await state.getRun(runId), tasks: await state.getTaskRuns(runId) });
  const summary = await resumed.done;
  expect(summary.status).toBe('succeeded');
  expect(summary.tasks.map((t) => [t.status, t.cached])).toEqual([
    ['succeeded', false],
    ['succeeded', false]
  ]);
});

it('retries a failing task with backoff and succeeds on a later attempt', async () => {
  const flaky = [
    code('import * as fs from "fs";', { role: 'setup' }),
    code(
      'const tries = fs.existsSync("tries") ? Number(fs.readFileSync("tries", "utf8")) + 1 : 1;\nfs.writeFileSync("tries", String(tries));\nif (tries < 3) throw new Error(`flaky ${tries}`);\nconst ok = tries;',
      { task: 'flaky', retries: 3 }
    )
  ];
  const summary = await run(flaky);
  expect(summary.tasks[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
  expect(events.filter((e) => e.status === 'retrying').map((e) => e.message)).toEqual([
    expect.stringContaining('flaky 1'),
    expect.stringContaining('flaky 2')
  ]);
});

/** `broken` fails twice (one retry) with the error in its second cell; `after` is skipped. */
const failing: TestCell[] = [
  code('const a = 1;', { task: 'first' }),
  code('console.log("before");', { task: 'broken', retries: 1 }),
  code('if (a === 1) throw new TypeError("bad input");\nconst b = a + 1;'),
  code('const c = b * 2;', { task: 'after' })
];

it('fails the run when retries are exhausted, skips downstream, and shows the error in the right cell', async () => {
  const summary = await run(failing);
  expect(summary.status).toBe('failed');
  const byName = Object.fromEntries(summary.tasks.map((t) => [t.name, t]));
  expect(byName.broken).toMatchObject({ status: 'failed', attempts: 2, error: expect.stringContaining('bad input') });
  expect(byName.after).toMatchObject({ status: 'skipped', skipReason: 'not started: the run failed first' });
  const nb = await executed(summary.runId);
  expect(nb.cells[1].outputs?.[0]).toMatchObject({ output_type: 'stream', text: expect.stringContaining('before') });
  expect(nb.cells[2].outputs).toContainEqual(expect.objectContaining({ output_type: 'error', ename: 'TypeError', evalue: 'bad input' }));
  // The task that never ran shows no stale output, only why it did not run.
  expect(nb.cells[3].outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'cellgraph: task after was skipped: not started: the run failed first\n' }]);
});

it('returns the summary its task records say (the run ends from its bookkeeping, without reading every record back)', async () => {
  const fromRecords = async (summary: RunSummary, cells: TestCell[]) => {
    const compiled = compileNotebook({ path: 'test.ipynb', text: notebookText(cells) });
    if (!compiled.ok) throw new Error('does not compile');
    return summarizeRun(await state.getRun(summary.runId), await state.getTaskRuns(summary.runId), compiled.ir, summary.executedNotebook);
  };
  // Failed after a retry (error with its cell), skipped downstream; then fresh and cached runs.
  const failed = await run(failing);
  expect(failed.tasks.map((t) => t.status)).toEqual(['succeeded', 'failed', 'skipped']);
  expect(failed).toEqual(await fromRecords(failed, failing));
  await run(hello);
  const cached = await run(hello);
  expect(cached.tasks.map((t) => t.status)).toEqual(['cached', 'cached']);
  expect(cached).toEqual(await fromRecords(cached, hello));
  const records = await state.getTaskRuns(failed.runId);
  expect((await executed(failed.runId)).metadata.cellgraph).toMatchObject({
    tasks: Object.fromEntries(records.map((r) => [r.task, { status: r.status, attempts: r.attempts, cached: r.cached, durationMs: r.durationMs ?? null, error: r.error?.message ?? null }]))
  });
});

it('stops a task at its timeout and fails it as a timeout', async () => {
  const slow = [code('await new Promise((r) => setTimeout(r, 30000));\nconst done = true;', { task: 'slow', timeoutSeconds: 1 })];
  const t0 = Date.now();
  const summary = await run(slow);
  // Stopped long before its 30 s sleep ends (the margin is for a loaded machine).
  expect(Date.now() - t0).toBeLessThan(25_000);
  expect(summary.tasks[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('timeout') });
});

it('reports a task process that exits on its own as a failure with its output', async () => {
  const exiting = [code('console.error("giving up");\nprocess.exit(3);\nconst never = 1;', { task: 'quitter' })];
  const summary = await run(exiting);
  expect(summary.tasks[0].status).toBe('failed');
  expect(summary.tasks[0].error).toMatch(/exited with code 3[\s\S]*giving up/);
});

it('runs independent tasks in parallel', async () => {
  // Each task waits until the other has started: both finish only if they run at once
  // (one after the other, the first would wait until its timeout). No timing involved.
  const parallel = [
    code('import * as fs from "fs";\nasync function meet(me: string, other: string): Promise<void> {\n  fs.writeFileSync(me, "");\n  while (!fs.existsSync(other)) await new Promise((r) => setTimeout(r, 20));\n}', { role: 'setup' }),
    code('await meet("a-started", "b-started");\nconst a = 1;', { task: 'a', timeoutSeconds: 60 }),
    code('await meet("b-started", "a-started");\nconst b = 2;', { task: 'b', timeoutSeconds: 60 }),
    code('const both = a + b;', { task: 'join' })
  ];
  const summary = await run(parallel);
  expect(summary.status).toBe('succeeded');
  const join = (await state.getTaskRuns(summary.runId)).find((t) => t.task === 'join');
  const bothRef = join?.outputs.find((o) => o.name === 'both');
  expect(bothRef).toBeDefined();
  expect(decodeValue(await store.getBlob(bothRef!))).toBe(3);
});

it('cancels a run: running processes end, the run is recorded as cancelled', async () => {
  const text = notebookText([
    code('import * as fs from "fs";', { role: 'setup' }),
    code('fs.writeFileSync("pid", String(process.pid));\nawait new Promise((r) => setTimeout(r, 60000));\nconst x = 1;', { task: 'long' }),
    code('const y = x + 1;', { task: 'next' })
  ]);
  const compiled = compileNotebook({ path: 'test.ipynb', text });
  if (!compiled.ok) throw new Error('does not compile');
  const handle = await engine.startRun({ ir: compiled.ir, notebookText: text, notebookPath: path.join(dir, 'test.ipynb'), workDir: dir });
  const pidFile = path.join(dir, 'pid');
  await waitFor(async () => (fs.existsSync(pidFile) ? true : undefined), 60_000, 'the task to start');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  handle.cancel();
  const summary = await handle.done;
  expect(summary.status).toBe('cancelled');
  expect(summary.tasks.map((t) => t.status)).toEqual(['cancelled', 'skipped']);
  expect((await state.getRun(summary.runId)).status).toBe('cancelled');
  expect(() => process.kill(pid, 0)).toThrow();
});

it('refuses bad parameters before recording or starting anything', async () => {
  await expect(run(hello, { params: { nope: 1 } })).rejects.toMatchObject({ name: 'ValidationError', field: 'params.nope' });
  await expect(run(hello, { params: { times: 'two' } })).rejects.toMatchObject({ name: 'ValidationError', field: 'params.times' });
  expect(await state.listRuns()).toEqual([]);
});

it('checks param() constraints in a child process before any task starts', async () => {
  const constrained = [
    code('import { param } from "@cellgraph/kernel";\nimport { z } from "zod";', { role: 'setup' }),
    code('const epochs = param("epochs", z.number().int().min(1), 10);', { role: 'parameters' }),
    code('const doubled = epochs * 2;', { task: 'train' })
  ];
  await expect(run(constrained, { params: { epochs: 0 } })).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('epochs') });
  expect(await state.listRuns()).toEqual([]);
  const ok = await run(constrained, { params: { epochs: 3 } });
  expect(ok.params).toEqual({ epochs: 3 });
});
