/**
 * Secret values stay out of what a task shows, through the real local executor and task
 * entry (cold and warm processes): a task that prints its secret, displays it, returns it
 * as a cell result and fails with it in its error leaves no value in its log (filed and
 * live), its executed cells, its metrics or its error; the output it returns keeps the value (data).
 * Requires `tsc -b` first.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type StoreConfig, type TaskInvocation, type TaskResult, attemptKey, taskModuleKey } from '@cellgraph/schema';
import { decodeValue } from '@cellgraph/kernel';
import { FilesystemStore } from '../../../stores';
import type { AttemptOutcome } from '../../executor';
import { ARCHIVE_LOGS_ENV, INVOCATION_ENV } from '../../task-entry-protocol';
import { LocalExecutor, defaultTaskEntry } from '../local-executor';
import { SECRETS_DIR_ENV } from '../task-env';

jest.setTimeout(60_000);

const VERSION = `sha256:${'d'.repeat(64)}`;
const PASSWORD = 'pa55-w0rd-XYZ';
const API_KEY = 'key-0123456789';
/** The built kernel the task entry loads too (the same module instance, so `display` reaches the runner). */
const KERNEL = path.resolve(__dirname, '../../../../../kernel-lib/dist/index.js');

let dir: string;
let store: FilesystemStore;
let storeConfig: StoreConfig;
let attempt = 0;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-redact-'));
  store = new FilesystemStore(path.join(dir, '.cellgraph'));
  storeConfig = { kind: 'filesystem', root: store.root };
  const secrets = path.join(dir, 'secrets');
  fs.mkdirSync(path.join(secrets, 'db-creds'), { recursive: true });
  // Written as `kubectl create secret --from-file` would mount it: a trailing newline.
  fs.writeFileSync(path.join(secrets, 'db-creds', 'password'), `${PASSWORD}\n`);
  fs.writeFileSync(path.join(secrets, 'db-creds', 'api-key'), API_KEY);
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const secretRefs = [
  { env: 'DB_PASSWORD', secret: 'db-creds', key: 'password' },
  { env: 'API_KEY', secret: 'db-creds', key: 'api-key' }
];

/** Runs one attempt of a task whose module body is `body`; returns its outcome and every live log chunk. */
async function run(executor: LocalExecutor, body: string, outputTypes: Record<string, string> = {}) {
  await store.putFile(taskModuleKey(VERSION, 'leaky'), `module.exports = async function (__cg) { ${body} };`);
  attempt += 1;
  const invocation: TaskInvocation = { runId: 'run-1', task: 'leaky', attempt, workflowVersion: VERSION, workDir: dir, inputs: {}, outputTypes, params: {}, store: storeConfig };
  const live: string[] = [];
  const handle = executor.launch(
    { invocation, env: {}, resources: {}, workflow: 'w', policy: { retries: 0, cache: false, resources: {}, env: {}, secrets: secretRefs } },
    (_stream, text) => live.push(text)
  );
  const outcome = await handle.done;
  const filed = (await store.getFile(attemptKey('run-1', 'leaky', attempt, 'log.txt'))).toString('utf8');
  return { outcome, live: live.join(''), filed };
}

function reported(outcome: AttemptOutcome): TaskResult {
  if (outcome.kind !== 'reported') throw new Error(`attempt lost: ${outcome.error.message}\n${outcome.log}`);
  return outcome.result;
}

/** Every place a value must not appear, with the secret's short forms too. */
function expectNoSecret(...texts: string[]): void {
  for (const text of texts) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(API_KEY);
  }
}

const LEAKY_CELLS = `
  __cg.enterCell(0);
  console.log("password=" + process.env.DB_PASSWORD.trim());
  process.stdout.write("split=" + process.env.API_KEY.slice(0, 5));
  process.stdout.write(process.env.API_KEY.slice(5) + "\\n");
  console.error({ both: [process.env.DB_PASSWORD, process.env.API_KEY] });
  const kernel = require(${JSON.stringify(KERNEL)});
  kernel.display.html("<b>" + process.env.API_KEY + "</b>");
  kernel.metric("connected_as", "user:" + process.env.API_KEY);
  __cg.enterCell(1);
  __cg.result("result " + process.env.DB_PASSWORD.trim());
`;

describe.each([
  ['a cold process', false],
  ['a warm process', true]
])('in %s', (_name, warmPool) => {
  let executor: LocalExecutor;
  beforeEach(async () => {
    executor = new LocalExecutor({ store, warmPool, env: { PATH: process.env.PATH, HOME: os.homedir(), [SECRETS_DIR_ENV]: path.join(dir, 'secrets') } });
    if (warmPool) {
      executor.warm(storeConfig, 1);
      const t0 = Date.now();
      while (executor.warmPids.length === 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterEach(() => executor.close());

  it('keeps secret values out of the log, live log and executed cells, but not out of outputs', async () => {
    const { outcome, live, filed } = await run(executor, `${LEAKY_CELLS}\n  return { token: process.env.API_KEY };`, { token: 'string' });
    const result = reported(outcome);
    expect(result.status).toBe('succeeded');
    const cells = JSON.stringify(result.cells);
    expectNoSecret(outcome.log, live, filed, cells);
    expect(outcome.log).toContain('password=[secret DB_PASSWORD]');
    expect(outcome.log).toContain('split=[secret API_KEY]');
    expect(filed).toBe(outcome.log);
    expect(cells).toContain('<b>[secret API_KEY]</b>');
    expect(cells).toContain('result [secret DB_PASSWORD]');
    expect(result.metrics).toStrictEqual({ connected_as: 'user:[secret API_KEY]' });
    // Outputs are data a downstream task computes with: the value itself.
    expect(decodeValue(await store.getBlob(result.outputs[0]))).toBe(API_KEY);
  });

  it('keeps secret values out of the error, its stack and the failure in the log', async () => {
    const { outcome, live, filed } = await run(executor, `${LEAKY_CELLS}\n  throw new Error("cannot connect with " + process.env.DB_PASSWORD.trim());`);
    const result = reported(outcome);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('cannot connect with [secret DB_PASSWORD]');
    expectNoSecret(outcome.log, live, filed, JSON.stringify(result.cells), JSON.stringify(result.error));
    expect(outcome.log).toContain('Error: cannot connect with [secret DB_PASSWORD]');
  });
});

it('in a pod, the task entry archives a redacted log itself (the Kubernetes path, without a cluster)', async () => {
  // What pod-spec.ts gives a container: the secrets as variables, the invocation naming them, log archiving on.
  await store.putFile(taskModuleKey(VERSION, 'leaky'), `module.exports = async function (__cg) { ${LEAKY_CELLS}\n  return {}; };`);
  const invocation: TaskInvocation = { runId: 'run-1', task: 'leaky', attempt: 99, workflowVersion: VERSION, workDir: dir, inputs: {}, outputTypes: {}, params: {}, store: storeConfig, secretEnv: ['DB_PASSWORD', 'API_KEY'] };
  const child = spawn(process.execPath, [defaultTaskEntry()], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: os.homedir(), DB_PASSWORD: `${PASSWORD}\n`, API_KEY, [INVOCATION_ENV]: JSON.stringify(invocation), [ARCHIVE_LOGS_ENV]: '1' },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let streamed = '';
  child.stdout.on('data', (c: Buffer) => (streamed += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (streamed += c.toString('utf8')));
  expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
  const archived = (await store.getFile(attemptKey('run-1', 'leaky', 99, 'log.txt'))).toString('utf8');
  const result = (await store.getFile(attemptKey('run-1', 'leaky', 99, 'result.json'))).toString('utf8');
  expectNoSecret(streamed, archived, result);
  expect(archived).toContain('split=[secret API_KEY]');
  expect(archived).toBe(streamed);
});
