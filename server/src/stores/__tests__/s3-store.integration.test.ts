/**
 * The S3 artifact store against a real S3-compatible server (moto's server mode on
 * 127.0.0.1): content addressing, integrity on read, multipart uploads, clear failures
 * while the server is away, and a whole workflow run whose values pass through S3.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { decodeValue } from '@cellgraph/kernel';
import type { StoreConfig } from '@cellgraph/schema';
import { compileNotebook } from '../../compiler';
import { startS3Server, TestS3Server } from '@cellgraph/dev/services/s3-server';
import { Engine } from '../../engine/engine';
import { LocalExecutor } from '../../executors/local/local-executor';
import { SqliteStateStore } from '../../state/sqlite-state-store';
import { code, linkNodeModules, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { startTcpProxy } from '@cellgraph/dev/test-support/tcp-proxy';
import { openStore, sha256 } from '..';
import { StoreUnavailableError } from '../../errors';
import { S3Store } from '../s3-store';

jest.setTimeout(120_000);

let s3: TestS3Server;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  s3 = await startS3Server();
  // The AWS credential chain reads the environment: task processes inherit it too.
  for (const [k, v] of Object.entries(s3.env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  await s3.createBucket('cellgraph-test');
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await s3?.stop();
});

const config = (prefix = 'unit'): Extract<StoreConfig, { kind: 's3' }> => ({ kind: 's3', bucket: 'cellgraph-test', prefix, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });

it('stores blobs by content hash and keyed files, and knows what it has', async () => {
  const store = openStore(config());
  expect(store).toBeInstanceOf(S3Store);
  const ref = await store.putBlob(Buffer.from('hello s3'));
  expect(ref).toEqual({ hash: sha256('hello s3'), size: 8 });
  expect(await store.putBlob(Buffer.from('hello s3'))).toEqual(ref);
  expect((await store.getBlob(ref)).toString()).toBe('hello s3');
  expect(await store.hasBlob(ref.hash)).toBe(true);
  expect(await store.hasBlob(sha256('other'))).toBe(false);

  await store.putFile('runs/r-1/tasks/a/attempt-1/result.json', '{"ok":true}');
  expect((await store.getFile('runs/r-1/tasks/a/attempt-1/result.json')).toString()).toBe('{"ok":true}');
  expect(await store.hasFile('runs/r-1/tasks/a/attempt-1/result.json')).toBe(true);
  await expect(store.getFile('runs/r-1/missing.json')).rejects.toThrow(/runs\/r-1\/missing.json not found in the artifact store s3:\/\/cellgraph-test\/unit\//);
  await expect(store.getFile('../escape')).rejects.toThrow(/unsafe store key/);
  expect(store.localPath('x')).toBeUndefined();
});

it('refuses a blob whose bytes no longer match its hash', async () => {
  const store = openStore(config('integrity'));
  const ref = await store.putBlob(Buffer.from('original'));
  const hex = ref.hash.slice('sha256:'.length);
  const raw = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
  await raw.send(new PutObjectCommand({ Bucket: 'cellgraph-test', Key: `integrity/objects/sha256/${hex.slice(0, 2)}/${hex}`, Body: 'tampered' }));
  raw.destroy();
  await expect(store.getBlob(ref)).rejects.toThrow(/is corrupt/);
});

it('uploads large values as multipart and reads them back intact', async () => {
  const store = new S3Store(config('multipart'), { partSize: 5 * 1024 * 1024 });
  const big = Buffer.alloc(11 * 1024 * 1024 + 123);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  const ref = await store.putBlob(big);
  expect((await store.getBlob(ref)).equals(big)).toBe(true);
  store.destroy();
});

it('retries while the server is away, then fails clearly; works again once it is back', async () => {
  const port = s3.port;
  await s3.stop();
  const store = new S3Store(config('outage'), { maxAttempts: 3, requestTimeoutMs: 2000, retryBudgetMs: 1000 });
  const err = await store.putFile('a/b.json', '{}').catch((e: Error) => e);
  expect(err).toBeInstanceOf(StoreUnavailableError);
  expect(String(err)).toMatch(/artifact store s3:\/\/cellgraph-test\/outage\/ at http:\/\/127\.0\.0\.1:\d+: (HEAD|PUT) .* failed/);
  s3 = await startS3Server(port);
  await s3.createBucket('cellgraph-test');
  await store.putFile('a/b.json', '{}');
  expect((await store.getFile('a/b.json')).toString()).toBe('{}');
  store.destroy();
});

it("rides out an outage that outlasts the SDK's own attempts: the retry budget is in time, not in attempts", async () => {
  const proxy = await startTcpProxy(s3.port);
  const store = new S3Store({ ...config('budget'), endpoint: `http://127.0.0.1:${proxy.port}` });
  try {
    await store.putFile('k.json', '{"v":1}');
    proxy.down();
    const read = store.getFile('k.json');
    const gaveUp = read.then(
      () => undefined,
      (e: Error) => e
    );
    // Twice the SDK's 8 attempts hung up (it may spend them in under 2 s): only a budget in
    // time is still trying. The outage ends on that event, never after a fixed sleep.
    await Promise.race([proxy.untilHungUp(16), gaveUp]);
    proxy.up();
    expect(await gaveUp).toBeUndefined();
    expect((await read).toString()).toBe('{"v":1}');
  } finally {
    proxy.up();
    store.destroy();
    await proxy.close();
  }
});

it('runs a workflow whose inputs and outputs pass through S3', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-s3-run-'));
  linkNodeModules(dir);
  try {
    const text = notebookText([
      code('const n = 4;', { role: 'parameters' }),
      code('const squares: number[] = Array.from({ length: n }, (_, i) => i * i);', { task: 'make' }),
      code('const total = squares.reduce((a, b) => a + b, 0);\nconsole.log(`total ${total}`);', { task: 'sum' })
    ]);
    const compiled = compileNotebook({ path: path.join(dir, 'nb.ipynb'), text });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
    const storeConfig = config('engine');
    const store = openStore(storeConfig);
    const state = SqliteStateStore.open(path.join(dir, 'state.db'));
    const engine = new Engine({ store, storeConfig, state, executor: new LocalExecutor({ store }) });
    const handle = await engine.startRun({ ir: compiled.ir, notebookText: text, notebookPath: path.join(dir, 'nb.ipynb'), workDir: dir, params: { n: 5 } });
    const summary = await handle.done;
    expect(summary.status).toBe('succeeded');
    const records = await state.getTaskRuns(summary.runId);
    const total = records.find((r) => r.task === 'sum')?.outputs.find((o) => o.name === 'total');
    expect(total).toBeDefined();
    expect(decodeValue(await store.getBlob(total!))).toBe(30);
    // Nothing of the run landed on the local disk: values and records of attempts are in S3.
    expect(fs.readdirSync(dir).sort()).toEqual(['node_modules', 'state.db', 'state.db-shm', 'state.db-wal'].filter((f) => fs.existsSync(path.join(dir, f))));
    await state.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('cellgraph run uses S3 when CELLGRAPH_STORE names a bucket, and refuses a malformed one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-s3-cli-'));
  linkNodeModules(dir);
  try {
    fs.writeFileSync(path.join(dir, 'nb.ipynb'), notebookText([code('const xs: number[] = [1, 2, 3];', { task: 'make' }), code('const n = xs.length;', { task: 'count' })]));
    const cli = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli', 'main.js');
    const env = { ...process.env, XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_HOME: '', CELLGRAPH_STORE: 's3://cellgraph-test/cli', CELLGRAPH_S3_ENDPOINT: s3.endpoint };
    const run = spawnSync(process.execPath, [cli, 'run', 'nb.ipynb', '--json'], { cwd: dir, env, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout) as { runId: string; status: string };
    expect(summary.status).toBe('succeeded');
    // Values live in S3: no objects/ directory in the local home.
    expect(fs.existsSync(path.join(dir, '.cellgraph', 'objects'))).toBe(false);
    const outputs = spawnSync(process.execPath, [cli, 'outputs', summary.runId, 'count'], { cwd: dir, env, encoding: 'utf8' });
    expect(outputs.stdout).toContain('n: number = 3');
    const bad = spawnSync(process.execPath, [cli, 'run', 'nb.ipynb'], { cwd: dir, env: { ...env, CELLGRAPH_STORE: 'gs://nope' }, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('CELLGRAPH_STORE must be s3://bucket[/prefix]');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
