/**
 * Faults at the server's edges, against the real `cellgraph server` process on 127.0.0.1:
 * the SQLite file locked by another connection at write time, the disk holding the home
 * full at write time (a real 1 MiB tmpfs), oversized bodies, path traversal in every id
 * and file name, and wrong tokens. Each case checks the answer is a clear, bounded error
 * (never a hang, never a stack) and that the server works and its records are intact after.
 * Every error body the tests see is kept and checked, at the end, for the token.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { ApiError, ListRunsResponse, RunDetail } from '@cellgraph/schema';
import { TestCell, code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ServerProcess, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(120_000);

const TOKEN = 'faults-token-5f0c2a9e71d84b36a0e1';

/** Every response body seen by the tests, checked for the token at the end. */
const bodies: string[] = [];

const nb = (cells: TestCell[]) => JSON.parse(notebookText(cells)) as Record<string, unknown>;
const hello = (word: string): TestCell[] => [
  code('const name = "world";', { role: 'parameters' }),
  code(`const message: string = \`${word} \${name}\`;\nconsole.log(message);`, { task: 'greet' }),
  code('const loud: string = message.toUpperCase();', { task: 'shout' })
];

async function text(res: Response): Promise<{ status: number; text: string }> {
  const t = await res.text();
  bodies.push(t);
  return { status: res.status, text: t };
}

/** Asserts an error answer: status, code, the one error shape, no stack. */
async function expectError(res: Response, status: number, code: string, field?: string): Promise<ApiError> {
  return expectErrorText(await text(res), status, code, field);
}

function expectErrorText(r: { status: number; text: string }, status: number, code: string, field?: string): ApiError {
  expect({ status: r.status, text: r.text }).toMatchObject({ status });
  const body = ApiError.parse(JSON.parse(r.text));
  expect(body.error.code).toBe(code);
  if (field !== undefined) expect(body.error.field).toBe(field);
  expect(r.text).not.toMatch(/\bat .*\.js:\d+|node:internal|\/dist\//);
  return body;
}

async function submit(s: ServerProcess, cells: TestCell[], name: string): Promise<Response> {
  return s.api('/api/v1/runs', { method: 'POST', json: { notebook: nb(cells), notebookName: name } });
}

async function detail(s: ServerProcess, id: string): Promise<RunDetail> {
  const r = await text(await s.api(`/api/v1/runs/${id}`));
  expect(r.status).toBe(200);
  return RunDetail.parse(JSON.parse(r.text));
}

async function finished(s: ServerProcess, id: string): Promise<RunDetail> {
  return waitFor(async () => {
    const r = await detail(s, id);
    return r.status === 'queued' || r.status === 'running' ? undefined : r;
  }, 60_000, `run ${id}`);
}

/** Runs `cells` to the end and expects success. */
async function runOk(s: ServerProcess, cells: TestCell[], name: string): Promise<RunDetail> {
  const r = await text(await submit(s, cells, name));
  expect({ status: r.status, text: r.text }).toMatchObject({ status: 201 });
  const done = await finished(s, RunDetail.parse(JSON.parse(r.text)).runId);
  expect(done.status).toBe('succeeded');
  return done;
}

/**
 * The database is whole: SQLite's integrity check passes, and every run the API lists
 * parses as a RunDetail and has ended (nothing left half-written or stuck `running`).
 */
async function expectIntactState(s: ServerProcess, dbFile: string): Promise<RunDetail[]> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
  } finally {
    db.close();
  }
  const listed = ListRunsResponse.parse(JSON.parse((await text(await s.api('/api/v1/runs?limit=1000'))).text));
  const runs: RunDetail[] = [];
  for (const r of listed.runs) runs.push(await detail(s, r.id));
  for (const r of runs) expect([r.runId, r.status]).toEqual([r.runId, expect.stringMatching(/^(succeeded|failed|cancelled)$/)]);
  return runs;
}

/** Retries a run of a -> b -> c that failed at b: a is reused, b and c run and succeed. */
async function expectRetryReusesA(s: ServerProcess, id: string): Promise<void> {
  const retried = await text(await s.api(`/api/v1/runs/${id}/retry`, { method: 'POST', json: {} }));
  expect(retried.status).toBe(201);
  const again = await finished(s, RunDetail.parse(JSON.parse(retried.text)).runId);
  expect(again.tasks.map((t) => [t.name, t.status, t.cached])).toEqual([
    ['a', 'cached', true],
    ['b', 'succeeded', false],
    ['c', 'succeeded', false]
  ]);
}

afterAll(async () => {
  await stopAllServers();
  const leaked = bodies.filter((b) => b.includes(TOKEN));
  expect(leaked).toEqual([]);
});

describe('SQLite locked by another connection at write time', () => {
  let dir: string;
  let s: ServerProcess;
  beforeAll(async () => {
    dir = tempWorkDir('cg-faults-lock-');
    s = await startServerProcess(dir, { token: TOKEN });
  });
  afterAll(async () => {
    s.child.kill('SIGKILL');
    await s.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a write with 503 within the busy timeout, keeps serving reads, and works once the lock is released', async () => {
    const dbFile = path.join(dir, '.cellgraph', 'state.db');
    const before = await runOk(s, hello('hello'), 'before.ipynb');

    const locker = new Database(dbFile, { timeout: 0 });
    locker.exec('BEGIN EXCLUSIVE');
    try {
      const t0 = Date.now();
      const body = await expectError(await submit(s, hello('locked'), 'locked.ipynb'), 503, 'unavailable');
      const ms = Date.now() - t0;
      expect(body.error.message).toMatch(/state database is locked/);
      expect(ms).toBeLessThan(15_000); // bounded by the 5 s busy timeout, not a hang
      // Reads go on under a writer's lock (WAL).
      expect((await detail(s, before.runId)).status).toBe('succeeded');
      expect((await text(await fetch(`${s.url}/api/v1/health`))).status).toBe(200);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }

    const after = await runOk(s, hello('after'), 'after.ipynb');
    const runs = await expectIntactState(s, dbFile);
    // The refused submission left no record behind.
    expect(runs.map((r) => r.runId).sort()).toEqual([before.runId, after.runId].sort());
  });

  it('a run in flight when the lock is taken ends with a recorded status, not stuck as running', async () => {
    const dbFile = path.join(dir, '.cellgraph', 'state.db');
    const slow: TestCell[] = [
      code('const a: number = 1;', { task: 'a' }),
      code('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);\nconst b: number = a + 1;', { task: 'b' }),
      code('const c: number = b + 1;', { task: 'c' })
    ];
    const r = await text(await submit(s, slow, 'inflight.ipynb'));
    expect(r.status).toBe(201);
    const id = RunDetail.parse(JSON.parse(r.text)).runId;
    await waitFor(async () => ((await detail(s, id)).tasks[1].status === 'running' ? true : undefined), 30_000, 'task b running');

    // Hold the lock past the server's 5 s busy timeout while task b finishes and reports.
    const locker = new Database(dbFile, { timeout: 0 });
    locker.exec('BEGIN EXCLUSIVE');
    await new Promise((res) => setTimeout(res, 7000));
    locker.exec('ROLLBACK');
    locker.close();

    // Task b reports while the lock is held: its record cannot be written within the busy
    // timeout, so b fails with the database's reason and c is skipped; the run ends
    // `failed` with every record consistent, and a retry reuses a. (On a very slow machine
    // b may report after the lock is gone; then the run simply succeeds.)
    const done = await finished(s, id);
    if (done.status === 'failed') {
      expect(done.tasks.map((t) => [t.name, t.status])).toEqual([
        ['a', 'succeeded'],
        ['b', 'failed'],
        ['c', 'skipped']
      ]);
      expect(done.tasks[1].error).toBe('the state database is locked by another process; nothing was written');
      await expectRetryReusesA(s, id);
    } else {
      expect(done.status).toBe('succeeded');
    }
    await expectIntactState(s, dbFile);
    await runOk(s, hello('later'), 'later.ipynb');
  });
});

/** Mounts a tmpfs of `size` at a new directory; undefined when this machine does not allow it. */
function mountTmpfs(size: string): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-faults-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return dir;
  fs.rmdirSync(dir);
  return undefined;
}

/** Writes zeros into `file` until the file system says ENOSPC. */
function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
}

describe('disk full at write time', () => {
  let dir: string;
  let mount: string | undefined;
  let s: ServerProcess;
  beforeAll(async () => {
    dir = tempWorkDir('cg-faults-disk-');
    mount = mountTmpfs('4m');
    const home = mount ?? path.join(dir, 'home');
    s = await startServerProcess(dir, { token: TOKEN, args: ['--home', home] });
  });
  afterAll(async () => {
    s.child.kill('SIGKILL');
    await s.exited;
    if (mount !== undefined) {
      spawnSync('umount', [mount]);
      fs.rmdirSync(mount);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a submission with 503 while the home disk is full, writes nothing, and works once space is freed', async () => {
    // A real full disk, not a simulation: the suite runs as root (as CI does) to mount it.
    if (mount === undefined) throw new Error('the disk-full tests mount a 4 MiB tmpfs: run them as root (CAP_SYS_ADMIN), as CI does');
    const home = mount;
    const dbFile = path.join(home, 'state.db');
    const before = await runOk(s, hello('hello'), 'before.ipynb');

    const filler = path.join(home, 'filler.bin');
    fillDisk(filler);
    try {
      // A new notebook: compile cache, workflow files and run records all need space.
      const body = await expectError(await submit(s, hello('full'), 'full.ipynb'), 503, 'unavailable');
      expect(body.error.message).toMatch(/disk .*full|no space/i);
      // The notebook already run: its files exist, the run records still need space.
      await expectError(await submit(s, hello('hello'), 'before.ipynb'), 503, 'unavailable');
      expect((await detail(s, before.runId)).status).toBe('succeeded');
    } finally {
      fs.rmSync(filler);
    }

    const after = await runOk(s, hello('full'), 'full.ipynb');
    const runs = await expectIntactState(s, dbFile);
    expect(runs.map((r) => r.runId).sort()).toEqual([before.runId, after.runId].sort());
  });

  it('a run in flight when the disk fills ends with a recorded status once space is freed', async () => {
    const home = mount as string;
    const slow: TestCell[] = [
      code('const a: number = 1;', { task: 'a' }),
      code('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);\nconst b: string = "y".repeat(200_000) + a;', { task: 'b' }),
      code('const c: number = b.length;', { task: 'c' })
    ];
    const r = await text(await submit(s, slow, 'inflight.ipynb'));
    expect(r.status).toBe(201);
    const id = RunDetail.parse(JSON.parse(r.text)).runId;
    await waitFor(async () => ((await detail(s, id)).tasks[1].status === 'running' ? true : undefined), 30_000, 'task b running');
    const filler = path.join(home, 'filler.bin');
    fillDisk(filler);
    await new Promise((res) => setTimeout(res, 4000));
    fs.rmSync(filler);
    // b could not file its result or its record while the disk was full: it fails with
    // that reason, c is skipped, and the run's end is recorded once space is back.
    const done = await finished(s, id);
    expect(done.status).toBe('failed');
    expect(done.tasks.map((t) => [t.name, t.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'failed'],
      ['c', 'skipped']
    ]);
    expect(done.tasks[1].error).toMatch(/full|no space/i);
    await expectRetryReusesA(s, id);
    await expectIntactState(s, path.join(home, 'state.db'));
    await runOk(s, hello('later'), 'later.ipynb');
  });
});

describe('oversized bodies, path traversal, wrong tokens', () => {
  let dir: string;
  let s: ServerProcess;
  beforeAll(async () => {
    dir = tempWorkDir('cg-faults-edge-');
    s = await startServerProcess(dir, { token: TOKEN, args: ['--max-body-bytes', '8192'] });
  });
  afterAll(async () => {
    s.child.kill('SIGKILL');
    await s.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A raw HTTP/1.1 request: the path goes out exactly as written (fetch would normalise `..`). */
  function raw(method: string, rawPath: string, options: { headers?: Record<string, string>; chunks?: Buffer[] } = {}): Promise<{ status: number; text: string }> {
    const { port, hostname } = new URL(s.url);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: hostname, port, method, path: rawPath, headers: { authorization: `Bearer ${TOKEN}`, ...options.headers } }, (res) => {
        let t = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (t += d));
        res.on('end', () => {
          bodies.push(t);
          resolve({ status: res.statusCode ?? 0, text: t });
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
      for (const c of options.chunks ?? []) req.write(c);
      req.end();
    });
  }

  it('refuses oversized bodies with 413 on every POST route, with or without Content-Length, and keeps serving', async () => {
    const big = { notebook: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', source: 'x'.repeat(20_000), metadata: {} }] } };
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: big }), 413, 'payload-too-large');
    await expectError(await s.api('/api/v1/workflows/promote', { method: 'POST', json: big }), 413, 'payload-too-large');
    await expectError(await s.api('/api/v1/runs/r-1/retry', { method: 'POST', json: { noCache: true, pad: 'x'.repeat(20_000) } }), 413, 'payload-too-large');
    // Chunked: no Content-Length, the limit is enforced while streaming.
    const chunks = [Buffer.from('{"notebook": "'), ...Array.from({ length: 40 }, () => Buffer.alloc(1024, 'x')), Buffer.from('"}')];
    const chunked = await raw('POST', '/api/v1/runs', { headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, chunks });
    expect(chunked.status).toBe(413);
    expect(ApiError.parse(JSON.parse(chunked.text)).error.code).toBe('payload-too-large');
    // A lying Content-Length larger than the limit is refused before the body is read.
    const lying = await raw('POST', '/api/v1/runs', { headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) }, chunks: [Buffer.from('{}')] });
    expect(lying.status).toBe(413);
    // Just under the limit is accepted (and judged on its content).
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebookPath: `${'a'.repeat(7000)}.ipynb` } }), 400, 'invalid', 'body.notebookPath');
    await runOk(s, hello('small'), 'small.ipynb');
  });

  it('answers path traversal in run ids, task names, workflow names, versions and file names with 400, touching nothing', async () => {
    // Sent verbatim: fetch would resolve `%2e%2e` and `..` segments before they reach the server.
    const bad400 = async (p: string, field: string, init?: { method: string; json?: unknown }) => {
      const json = init?.json !== undefined ? [Buffer.from(JSON.stringify(init.json))] : [];
      const headers: Record<string, string> = init?.json !== undefined ? { 'content-type': 'application/json' } : {};
      expectErrorText(await raw(init?.method ?? 'GET', p, { headers, chunks: json }), 400, 'invalid', field);
    };
    for (const id of ['..%2F..%2Fetc%2Fpasswd', '%2e%2e', '..', '.hidden', 'r-1%00', 'r-1%2F..%2F..', '..%5C..%5Cwindows', 'R-UPPER']) {
      await bad400(`/api/v1/runs/${id}`, 'path.id');
      await bad400(`/api/v1/runs/${id}/logs`, 'path.id');
      await bad400(`/api/v1/runs/${id}/notebook`, 'path.id');
      await bad400(`/api/v1/runs/${id}/cancel`, 'path.id', { method: 'POST' });
    }
    for (const task of ['..%2F..%2Fx', '%2e%2e', '..', 'a%2Fb', 'a%00']) {
      await bad400(`/api/v1/runs/r-1/tasks/${task}/outputs`, 'path.task');
      await bad400(`/api/v1/runs/r-1/logs?task=${task}`, 'query.task');
    }
    await bad400('/api/v1/workflows/..%2F..%2Fetc/versions', 'path.name');
    await bad400('/api/v1/workflows/hello/versions/..%2F..%2F1/runs', 'path.v', { method: 'POST', json: {} });
    await bad400('/api/v1/workflows/hello/versions/1/diff/..%2F2', 'path.b');
    for (const name of ['../evil.ipynb', '../../tmp/evil.ipynb', '/tmp/evil.ipynb', 'a/b.ipynb', 'a\\..\\b.ipynb', '..ipynb', '.ipynb', 'x\u0000.ipynb', 'evil.ipynb/..']) {
      await bad400('/api/v1/runs', 'body.notebookName', { method: 'POST', json: { notebook: nb(hello('x')), notebookName: name } });
      await bad400('/api/v1/workflows/promote', 'body.notebookName', { method: 'POST', json: { notebook: nb(hello('x')), notebookName: name } });
    }
    for (const p of ['../../../../etc/passwd', '/etc/shadow', 'x.ipynb\u0000../../etc/passwd', '../../../../etc']) {
      await bad400('/api/v1/runs', 'body.notebookPath', { method: 'POST', json: { notebookPath: p } });
    }
    // Unnormalised `..` segments on the wire never reach a file: no route, or an invalid id.
    for (const p of ['/api/v1/runs/../../../etc/passwd', '/api/v1/runs/r-1/tasks/../../../../etc/passwd/outputs', '/api/v1/../../etc/passwd', '/api/v1/runs/%2e%2e/%2e%2e/etc/passwd']) {
      const r = await raw('GET', p);
      expect([400, 404]).toContain(r.status);
      expect(ApiError.parse(JSON.parse(r.text)).error.code).toMatch(/^(invalid|not-found)$/);
      expect(r.text).not.toContain('root:');
    }
    expect(fs.existsSync(path.join(os.tmpdir(), 'evil.ipynb'))).toBe(false);
    expect(fs.existsSync(path.join(path.dirname(dir), 'evil.ipynb'))).toBe(false);
  });

  it('answers a wrong or malformed token with 401 on every route and never echoes a token', async () => {
    const wrong = ['Bearer wrong-token-0000000000000000', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`, `Bearer  ${TOKEN}`, `Bearer ${TOKEN} extra`, TOKEN, 'Bearer', ''];
    const routes: [string, string][] = [
      ['GET', '/api/v1/runs'],
      ['POST', '/api/v1/runs'],
      ['GET', '/api/v1/runs/r-1'],
      ['GET', '/api/v1/runs/r-1/events'],
      ['GET', '/api/v1/runs/r-1/logs'],
      ['POST', '/api/v1/workflows/promote'],
      ['GET', '/api/v1/openapi.json'],
      ['GET', '/api/v1/../../etc/passwd']
    ];
    for (const authorization of wrong) {
      for (const [method, p] of routes) {
        const r = await raw(method, p, { headers: { authorization, 'content-type': 'application/json' }, chunks: method === 'POST' ? [Buffer.from('{}')] : [] });
        expect({ authorization, p, status: r.status }).toEqual({ authorization, p, status: 401 });
        expect(ApiError.parse(JSON.parse(r.text)).error.code).toBe('unauthorized');
        const sent = authorization.split(/\s+/).pop() ?? '';
        if (sent.length > 8) expect(r.text).not.toContain(sent);
      }
    }
    // A malformed body is not quoted back (JSON.parse's message would include a snippet of it).
    await expectError(await s.api('/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"notebook": ${TOKEN}}` }), 400, 'bad-request');
    expect(s.stderr()).not.toContain(TOKEN);
  });
});
