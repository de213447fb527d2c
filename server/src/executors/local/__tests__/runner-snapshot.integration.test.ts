/**
 * Warm task processes started from the task entry's V8 start-up snapshot: built by the
 * real builder script into a fresh cache folder, used by the local executor, and a task
 * that uses `@cellgraph/kernel` itself shares the runner's module instances (its metrics
 * reach the result). Requires `tsc -b` first.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type StoreConfig, type TaskInvocation, TaskResult, attemptKey, taskModuleKey } from '@cellgraph/schema';
import { FilesystemStore } from '../../../stores';
import { LocalExecutor, defaultTaskEntry } from '../local-executor';
import { RUNNER_SNAPSHOT_ENV, snapshotPaths, taskEntryArgs } from '../runner-snapshot';

jest.setTimeout(60_000);

const VERSION = `sha256:${'d'.repeat(64)}`;
const entry = defaultTaskEntry();
let dir: string;
let cache: string;
const savedCache = process.env.CELLGRAPH_CACHE_DIR;

beforeAll(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-snapshot-cache-'));
  process.env.CELLGRAPH_CACHE_DIR = cache;
  const { blob, manifest } = snapshotPaths(entry);
  const builder = path.join(path.dirname(entry), 'local', 'runner-snapshot-build.js');
  const built = spawnSync(process.execPath, [builder, entry, blob, manifest], { encoding: 'utf8' });
  expect(built.stderr).toBe('');
  expect(built.status).toBe(0);
});

afterAll(() => {
  process.env.CELLGRAPH_CACHE_DIR = savedCache;
  fs.rmSync(cache, { recursive: true, force: true });
});

beforeEach(() => {
  // Inside the repository, so the task resolves @cellgraph/kernel as a notebook beside it would.
  dir = fs.mkdtempSync(path.join(__dirname, 'tmp-snapshot-'));
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('starts node on the snapshot once it is built, and on the entry when turned off', () => {
  expect(taskEntryArgs(entry)).toEqual(['--snapshot-blob', snapshotPaths(entry).blob]);
  // The one script it was built from stays beside it: the runner's stack frames name it.
  expect(fs.existsSync(snapshotPaths(entry).blob.replace(/\.blob$/, '.js'))).toBe(true);
  expect(taskEntryArgs(entry, { [RUNNER_SNAPSHOT_ENV]: '0' })).toEqual([entry]);
});

it('runs an attempt in a snapshot process whose task shares the runner’s @cellgraph/kernel', async () => {
  const store = new FilesystemStore(path.join(dir, '.cellgraph'));
  const storeConfig: StoreConfig = { kind: 'filesystem', root: store.root };
  const executor = new LocalExecutor({ store, env: { PATH: process.env.PATH, HOME: os.homedir() } });
  try {
    executor.warm(storeConfig, 1);
    const body = [
      'const kernel = require("@cellgraph/kernel");',
      '__cg.enterCell(0);',
      'kernel.metric("accuracy", 0.9);',
      'console.log("cmdline=" + require("fs").readFileSync("/proc/self/cmdline", "utf8").split("\\0").join(" "));',
      'console.log("task=" + kernel.runInfo().task);',
      'return { n: 1 };'
    ].join('\n');
    await store.putFile(taskModuleKey(VERSION, 'snap'), `module.exports = async function (__cg) { ${body} };`);
    const invocation: TaskInvocation = { runId: 'run-s', task: 'snap', attempt: 1, workflowVersion: VERSION, workDir: dir, inputs: {}, outputTypes: { n: 'number' }, params: {}, store: storeConfig };
    const outcome = await executor.launch({ invocation, env: {}, resources: {}, workflow: 'w', policy: { retries: 0, cache: false, resources: {}, env: {}, secrets: [] } }, () => undefined).done;
    expect(outcome.kind).toBe('reported');
    expect(outcome.log).toMatch(/cmdline=\S*node --snapshot-blob \S+task-entry-\S+\.blob/);
    expect(outcome.log).toContain('task=snap');
    const result = TaskResult.parse(JSON.parse((await store.getFile(attemptKey('run-s', 'snap', 1, 'result.json'))).toString('utf8')));
    expect(result.status).toBe('succeeded');
    expect(result.metrics).toEqual({ accuracy: 0.9 });
    expect(result.cells[0].outputs.some((o) => o.output_type === 'stream' && o.text.includes('task=snap'))).toBe(true);
  } finally {
    executor.close();
  }
});
