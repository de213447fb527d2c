/**
 * The task runner end to end in a task process: a generated module in the contract form of
 * runner/task-context.ts, a hand-built TaskInvocation, a filesystem store in a tmp dir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contentHash, decodeValue, encodeValue, registerCodec } from '../index';
import { Sandbox } from './support/task-process';

jest.setTimeout(60_000);

/** A task module as the compiler generates it: hoisted requires, then one async function. */
const taskModule = (body: string, header = '') => `${header}\nmodule.exports = async function (__cg) {\n${body}\n};\n`;

let sb: Sandbox;
beforeEach(() => {
  sb = new Sandbox();
});
afterEach(() => sb.cleanup());

async function output(result: { outputs: { name: string; hash: string }[] }, name: string): Promise<unknown> {
  const ref = result.outputs.find((o) => o.name === name);
  if (!ref) throw new Error(`no output ${name}`);
  return decodeValue(await sb.store.getBlob(ref));
}

describe('outputs', () => {
  it('writes each declared output content-addressed, typed as declared, in declaration order', async () => {
    const source = taskModule(`
__cg.enterCell(3);
const total = 42;
const byId = new Map([[1, "one"], [2, "two"]]);
const when = new Date(0);
const rows = [{ id: 1, score: NaN, tags: new Set(["a"]) }];
const notAnOutput = () => 1;
return { total, byId, when, rows, notAnOutput };`);
    const outputTypes = { rows: '{ id: number; score: number; tags: Set<string> }[]', total: 'number', byId: 'Map<number, string>', when: 'Date' };
    const { result } = await sb.runTask(source, { outputTypes });
    expect(result.status).toBe('succeeded');
    expect(result.error).toBeUndefined();
    expect(result.outputs.map((o) => [o.name, o.type])).toStrictEqual(Object.entries(outputTypes));

    const total = result.outputs.find((o) => o.name === 'total')!;
    const bytes = encodeValue(42);
    expect(total).toStrictEqual({ name: 'total', type: 'number', hash: contentHash(bytes), size: bytes.length });
    for (const o of result.outputs) {
      // Stored under its own hash, and the bytes match it.
      expect(contentHash(await sb.store.getBlob(o))).toBe(o.hash);
    }
    expect(await output(result, 'byId')).toStrictEqual(new Map([[1, 'one'], [2, 'two']]));
    expect(await output(result, 'when')).toStrictEqual(new Date(0));
    const rows = (await output(result, 'rows')) as { score: number; tags: Set<string> }[];
    expect(Number.isNaN(rows[0].score)).toBe(true);
    expect(rows[0].tags).toStrictEqual(new Set(['a']));
  });

  it('gives equal outputs of two attempts the same address', async () => {
    const source = taskModule('__cg.enterCell(0);\nconst v = { a: [1, 2], d: new Date(5) };\nreturn { v };');
    const first = await sb.runTask(source, { outputTypes: { v: 'object' } });
    const second = await sb.runTask(source, { outputTypes: { v: 'object' } });
    expect(second.result.outputs).toStrictEqual(first.result.outputs);
  });

  it('fails, naming the output, when a declared output is missing or cannot be encoded', async () => {
    const missing = await sb.runTask(taskModule('__cg.enterCell(1);\nconst a = 1;\nreturn { a };'), { outputTypes: { a: 'number', b: 'string' } });
    expect(missing.result.status).toBe('failed');
    expect(missing.result.outputs).toStrictEqual([]);
    expect(missing.result.error).toMatchObject({ name: 'CodecError', kind: 'error', cell: 1 });
    expect(missing.result.error?.message).toContain('outputs.b');

    const fn = await sb.runTask(taskModule('__cg.enterCell(4);\nconst model = { predict: (x) => x };\nreturn { model };'), { outputTypes: { model: 'Model' } });
    expect(fn.result.status).toBe('failed');
    expect(fn.result.error).toMatchObject({ name: 'CodecError', cell: 4 });
    expect(fn.result.error?.message).toMatch(/^outputs\.model\.predict: a function/);
    // The refusal is shown on the last cell of the executed notebook.
    expect(fn.result.cells[0].outputs).toContainEqual(expect.objectContaining({ output_type: 'error', ename: 'CodecError' }));
  });
});

describe('inputs', () => {
  it('loads inputs from the store, decoded to their kinds', async () => {
    const rows = await sb.store.putBlob(encodeValue([{ x: 1n, when: new Date(1000) }, { x: 2n, when: new Date(2000) }]));
    const labels = await sb.store.putBlob(encodeValue(new Set(['setosa', 'virginica'])));
    const source = taskModule(`
const { rows: rows, labels: labels } = await __cg.loadInputs();
__cg.enterCell(5);
const sum = rows.reduce((s, r) => s + r.x, 0n);
const latest = rows[1].when instanceof Date ? rows[1].when.getTime() : "not a date";
const hasSetosa = labels instanceof Set && labels.has("setosa");
return { sum, latest, hasSetosa };`);
    const { result } = await sb.runTask(source, { inputs: { rows, labels }, outputTypes: { sum: 'bigint', latest: 'number', hasSetosa: 'boolean' } });
    expect(result.status).toBe('succeeded');
    expect(await output(result, 'sum')).toBe(3n);
    expect(await output(result, 'latest')).toBe(2000);
    expect(await output(result, 'hasSetosa')).toBe(true);
  });

  it('decodes user classes with the codecs registered in setup cells, and encodes them on the way out', async () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number
      ) {}
    }
    registerCodec(Point, { name: 'runner-test.Point', encode: (p) => ({ x: p.x, y: p.y }), decode: (j) => new Point((j as { x: number }).x, (j as { y: number }).y) });
    const p = await sb.store.putBlob(encodeValue(new Point(3, 4)));
    const source = taskModule(
      `
__cg.enterCell(0);
class Point { constructor(x, y) { this.x = x; this.y = y; } norm() { return Math.hypot(this.x, this.y); } }
(0, kernel_1.registerCodec)(Point, { name: "runner-test.Point", encode: (p) => ({ x: p.x, y: p.y }), decode: (j) => new Point(j.x, j.y) });
const { p: p } = await __cg.loadInputs();
__cg.enterCell(2);
const norm = p.norm();
const moved = new Point(p.x + 1, p.y + 1);
return { norm, moved };`,
      'const kernel_1 = require("@cellgraph/kernel");'
    );
    const { result } = await sb.runTask(source, { inputs: { p }, outputTypes: { norm: 'number', moved: 'Point' } });
    expect(result.status).toBe('succeeded');
    expect(await output(result, 'norm')).toBe(5);
    const moved = await output(result, 'moved');
    expect(moved).toBeInstanceOf(Point);
    expect(moved).toMatchObject({ x: 4, y: 5 });
  });
});

describe('cells', () => {
  it("captures each cell's stdout, stderr and display data on that cell", async () => {
    const source = taskModule(
      `
__cg.enterCell(0);
console.log("loading");
console.log("loaded", 3, "rows");
__cg.enterCell(1);
console.error("warning: small data");
process.stdout.write("partial ");
process.stdout.write("line\\n");
__cg.enterCell(3);
tslab_1.display.html("<b>report</b>");
tslab_1.display.png(new Uint8Array([1, 2, 3]));
__cg.result((1 + 1));
__cg.result((undefined));
__cg.enterCell(4);
const quiet = 1;
return {};`,
      'const tslab_1 = require("tslab");'
    );
    const { result, child } = await sb.runTask(source);
    expect(result.status).toBe('succeeded');
    expect(result.cells.map((c) => c.cell)).toStrictEqual([0, 1, 3, 4]);
    const [c0, c1, c3, c4] = result.cells;
    // Consecutive chunks of one stream merge into one output, as Jupyter shows them.
    expect(c0.outputs).toStrictEqual([{ output_type: 'stream', name: 'stdout', text: 'loading\nloaded 3 rows\n' }]);
    expect(c1.outputs).toStrictEqual([
      { output_type: 'stream', name: 'stderr', text: 'warning: small data\n' },
      { output_type: 'stream', name: 'stdout', text: 'partial line\n' }
    ]);
    expect(c3.outputs).toStrictEqual([
      { output_type: 'display_data', data: { 'text/html': '<b>report</b>' }, metadata: {} },
      { output_type: 'display_data', data: { 'image/png': Buffer.from([1, 2, 3]).toString('base64') }, metadata: {} },
      // A cell's last expression is shown as tslab shows it; undefined is not shown.
      { output_type: 'stream', name: 'stdout', text: '2\n' }
    ]);
    expect(c4.outputs).toStrictEqual([]);
    for (const c of result.cells) {
      expect(Number.isNaN(Date.parse(c.startedAt))).toBe(false);
      expect(c.durationMs).toBeGreaterThanOrEqual(0);
    }
    // Output still streams through to the process (executors show live logs).
    expect(child.stdout).toContain('loading\nloaded 3 rows\n');
    expect(child.stderr).toContain('warning: small data');
  });

  it('updates a newDisplay() output in place, in the cell that first showed it', async () => {
    const source = taskModule(
      `
__cg.enterCell(0);
const progress = tslab_1.newDisplay();
progress.text("0%");
__cg.enterCell(1);
progress.text("50%");
progress.text("100%");
return {};`,
      'const tslab_1 = require("tslab");'
    );
    const { result } = await sb.runTask(source);
    const [c0, c1] = result.cells;
    expect(c0.outputs).toHaveLength(1);
    expect(c0.outputs[0]).toMatchObject({ output_type: 'display_data', data: { 'text/plain': '100%' }, transient: { display_id: expect.stringMatching(/^[0-9a-f]+$/) } });
    expect(c1.outputs).toStrictEqual([]);
  });

  it("resolves require('tslab') to the runner's shim, never loading tslab itself", async () => {
    const source = taskModule(
      `
__cg.enterCell(0);
const t = require("tslab");
const keys = Object.keys(t).sort();
const version = t.versions.tslab;
const frozen = Object.isFrozen(t);
const loadedTslab = Object.keys(require.cache).some((k) => /[\\\\/]tslab[\\\\/]dist[\\\\/]/.test(k));
return { keys, version, frozen, loadedTslab };`
    );
    const { result } = await sb.runTask(source, { outputTypes: { keys: 'string[]', version: 'string', frozen: 'boolean', loadedTslab: 'boolean' } });
    expect(result.status).toBe('succeeded');
    expect(await output(result, 'keys')).toStrictEqual(['display', 'newDisplay', 'versions']);
    expect(await output(result, 'version')).toBe('1.0.22');
    expect(await output(result, 'frozen')).toBe(true);
    expect(await output(result, 'loadedTslab')).toBe(false);
  });

  it('runs top-level await across cells, sharing bindings between cells', async () => {
    const source = taskModule(`
__cg.enterCell(0);
const base = await new Promise((resolve) => setTimeout(() => resolve(20), 20));
__cg.enterCell(1);
const fetched = await Promise.all([1, 2].map(async (n) => n * base));
__cg.result((fetched));
__cg.enterCell(2);
const answer = fetched[0] + fetched[1] - 18;
return { answer };`);
    const { result } = await sb.runTask(source, { outputTypes: { answer: 'number' } });
    expect(result.status).toBe('succeeded');
    expect(await output(result, 'answer')).toBe(42);
    expect(result.cells[1].outputs).toStrictEqual([{ output_type: 'stream', name: 'stdout', text: '[ 20, 40 ]\n' }]);
  });
});

describe('failures', () => {
  it('attributes an error thrown in cell 2 to cell 2 and reports the failure', async () => {
    const source = taskModule(`
__cg.enterCell(0);
const rows = [1, 2, 3];
__cg.enterCell(1);
console.log("cleaning", rows.length);
__cg.enterCell(2);
console.log("validating");
if (rows.length < 5) throw new RangeError("need at least 5 rows, got " + rows.length);
__cg.enterCell(3);
console.log("never runs");
const out = rows;
return { out };`);
    const { result } = await sb.runTask(source, { outputTypes: { out: 'number[]' } });
    expect(result.status).toBe('failed');
    expect(result.outputs).toStrictEqual([]);
    expect(result.error).toMatchObject({ name: 'RangeError', message: 'need at least 5 rows, got 3', cell: 2, kind: 'error' });
    expect(result.error?.stack).toContain('need at least 5 rows');
    expect(result.cells.map((c) => c.cell)).toStrictEqual([0, 1, 2]);
    expect(result.cells[1].outputs).toStrictEqual([{ output_type: 'stream', name: 'stdout', text: 'cleaning 3\n' }]);
    const cell2 = result.cells[2].outputs;
    expect(cell2[0]).toStrictEqual({ output_type: 'stream', name: 'stdout', text: 'validating\n' });
    expect(cell2[1]).toMatchObject({ output_type: 'error', ename: 'RangeError', evalue: 'need at least 5 rows, got 3' });
    expect(cell2).toHaveLength(2);
    // Stack traces name the task's file, for the executed notebook.
    expect((cell2[1] as { traceback: string[] }).traceback.join('\n')).toContain('task.cellgraph-task.js');
  });

  it('attributes a rejected await to the cell that awaited it', async () => {
    const source = taskModule(`
__cg.enterCell(0);
const ok = 1;
__cg.enterCell(7);
await new Promise((_, reject) => setTimeout(() => reject(new Error("service unavailable")), 10));
return {};`);
    const { result } = await sb.runTask(source);
    expect(result.error).toMatchObject({ name: 'Error', message: 'service unavailable', cell: 7 });
  });

  it('fails on an error thrown outside the awaited chain (a timer), as a task must', async () => {
    const source = taskModule(`
__cg.enterCell(0);
setTimeout(() => { throw new TypeError("late failure"); }, 5);
await new Promise((resolve) => setTimeout(resolve, 200));
return {};`);
    const { result } = await sb.runTask(source);
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ name: 'TypeError', message: 'late failure', cell: 0 });
  });

  it('reports a non-Error throw with its text', async () => {
    const { result } = await sb.runTask(taskModule('__cg.enterCell(0);\nthrow "plain string";'));
    expect(result.error).toMatchObject({ message: 'plain string', cell: 0 });
  });

  it("fails the task (rather than crashing the runner) when a user codec's encode throws", async () => {
    const source = taskModule(
      `
__cg.enterCell(0);
class Broken {}
(0, kernel_1.registerCodec)(Broken, { name: "runner-test.Broken", encode: () => { throw new Error("no can do"); }, decode: () => new Broken() });
__cg.enterCell(6);
const b = new Broken();
return { b };`,
      'const kernel_1 = require("@cellgraph/kernel");'
    );
    const { result } = await sb.runTask(source, { outputTypes: { b: 'Broken' } });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ name: 'CodecError', cell: 6 });
    expect(result.error?.message).toContain('no can do');
  });

  it('fails without a cell when the module is not a task module', async () => {
    const { result } = await sb.runTask('module.exports = 42;');
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ name: 'TypeError', kind: 'error' });
    expect(result.error?.cell).toBeUndefined();
    expect(result.cells).toStrictEqual([]);
  });
});

describe('params, metrics and run info in a task', () => {
  it("gives literal params and param() the run's values, records metrics, and knows its attempt", async () => {
    const source = taskModule(
      `
__cg.enterCell(0);
const lr = __cg.param("lr", 0.1);
const name = __cg.param("name", "iris");
const epochs = (0, kernel_1.param)("epochs", zod_1.z.number().int().min(1), 10);
__cg.enterCell(4);
(0, kernel_1.metric)("accuracy", 0.97);
(0, kernel_1.metric)("model", "tree");
const info = (0, kernel_1.runInfo)();
return { lr, name, epochs, info };`,
      'const kernel_1 = require("@cellgraph/kernel");\nconst zod_1 = require("zod");'
    );
    const { result, invocation } = await sb.runTask(source, {
      task: 'train',
      params: { lr: 0.5, epochs: 3 },
      outputTypes: { lr: 'number', name: 'string', epochs: 'number', info: 'RunInfo' }
    });
    expect(result.status).toBe('succeeded');
    expect(await output(result, 'lr')).toBe(0.5);
    expect(await output(result, 'name')).toBe('iris');
    expect(await output(result, 'epochs')).toBe(3);
    expect(await output(result, 'info')).toStrictEqual({ runId: invocation.runId, task: 'train', attempt: invocation.attempt });
    expect(result.metrics).toStrictEqual({ accuracy: 0.97, model: 'tree' });
  });

  it('fails the task with a ParamError when a run value breaks its schema', async () => {
    const source = taskModule(
      '__cg.enterCell(2);\nconst epochs = (0, kernel_1.param)("epochs", zod_1.z.number().int().min(1), 10);\nreturn { epochs };',
      'const kernel_1 = require("@cellgraph/kernel");\nconst zod_1 = require("zod");'
    );
    const { result } = await sb.runTask(source, { params: { epochs: -1 }, outputTypes: { epochs: 'number' } });
    expect(result.error).toMatchObject({ name: 'ParamError', cell: 2 });
    expect(result.error?.message).toContain('parameter "epochs"');
  });
});

describe('runParamsModule', () => {
  const paramsModule = taskModule(
    `
const epochs = (0, kernel_1.param)("epochs", zod_1.z.number().int().min(1), 10);
const dataset = __cg.param("dataset", "iris");
const split = (0, kernel_1.param)("split", zod_1.z.object({ train: zod_1.z.number().max(1) }), { train: 0.8 });
return { epochs, dataset, split };`,
    'const kernel_1 = require("@cellgraph/kernel");\nconst zod_1 = require("zod");'
  );

  it('returns every parameter: defaults, then the overrides', async () => {
    expect(await sb.runParams(paramsModule, {})).toStrictEqual({ ok: true, values: { epochs: 10, dataset: 'iris', split: { train: 0.8 } } });
    expect(await sb.runParams(paramsModule, { epochs: 3, dataset: 'wine', split: { train: 0.5 } })).toStrictEqual({
      ok: true,
      values: { epochs: 3, dataset: 'wine', split: { train: 0.5 } }
    });
  });

  it('refuses a value breaking its schema with a ParamError naming the parameter', async () => {
    const answer = await sb.runParams(paramsModule, { split: { train: 2 } });
    expect(answer).toMatchObject({ ok: false, name: 'ParamError', param: 'split' });
    expect(answer.ok === false && answer.message).toContain('(at train)');
  });
});

describe('evaluateCondition (the Argo export\'s condition step)', () => {
  // As the compiler generates it: setup, inputs, the condition, then the task's cells.
  const gated = taskModule(`
__cg.enterCell(0);
const fs = require("node:fs");
const limit = __cg.param("limit", 10);
const { n: n } = await __cg.loadInputs();
if (!(n > limit
)) return __cg.skip();
__cg.enterCell(1);
fs.writeFileSync("task-code-ran", "yes");
const out = n;
return { out };`);

  it('is true when the condition holds and runs no task code; false when it does not', async () => {
    const n = await sb.store.putBlob(encodeValue(12));
    expect(await sb.evaluateCondition(gated, { inputs: { n } })).toEqual({ held: true });
    expect(fs.existsSync(path.join(sb.workDir(), 'task-code-ran'))).toBe(false);
    expect(await sb.evaluateCondition(gated, { inputs: { n }, params: { limit: 20 } })).toEqual({ held: false });
  });

  it('fails when setup or the condition throws', async () => {
    const n = await sb.store.putBlob(encodeValue(12));
    const broken = gated.replace('n > limit', 'n.missing.deeper > limit');
    expect(await sb.evaluateCondition(broken, { inputs: { n } })).toEqual({ error: expect.stringContaining('deeper') });
  });
});
