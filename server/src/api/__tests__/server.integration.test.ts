/**
 * The companion server as clients meet it: the real `cellgraph server` process on
 * 127.0.0.1, spoken to over HTTP. Covers auth, the bad-input corpus, a full run
 * lifecycle with resumable Server-Sent Events, cancel, retry, promotion and versions,
 * recovery after SIGKILL and draining on SIGTERM. Every server is stopped by PID.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  ApiError,
  CompileResponse,
  CronPreviewResponse,
  HealthResponse,
  ListRunsResponse,
  ListVersionsResponse,
  ListWorkflowsResponse,
  PromoteResponse,
  RunDetail,
  RunLogsResponse,
  RunSummary,
  TaskOutputsResponse,
  VersionDiffResponse
} from '@cellgraph/schema';
import { TestCell, code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { expectError } from './expect-error';
import { CLI, ServerProcess, readEvents, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(120_000);

const TOKEN = 'test-token-0123456789abcdef';

const hello: TestCell[] = [
  code('const name = "world";', { role: 'parameters' }),
  code('const message = `hello ${name}`;\nconsole.log(message);', { task: 'greet' }),
  code('const loud: string = message.toUpperCase();', { task: 'shout' })
];

/** a -> b -> c; b sleeps, prints while it runs, and fails while fail.flag exists; each task appends to marks.txt once it succeeds. */
function pipeline(sleepMs: number, extra = ''): TestCell[] {
  return [
    code('import * as fs from "fs";', { role: 'setup' }),
    code(`const sleepMs = ${sleepMs};`, { role: 'parameters' }),
    code('const x: number = 1;\nfs.appendFileSync("marks.txt", "a\\n");', { task: 'a' }),
    code(
      'console.log("b working");\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, sleepMs);\n' +
        `if (fs.existsSync("fail.flag")) throw new Error("flagged");\nconst y: number = x + 1;${extra}\nfs.appendFileSync("marks.txt", "b\\n");`,
      { task: 'b' }
    ),
    code('const z: number = y * 2;\nfs.appendFileSync("marks.txt", "c\\n");', { task: 'c' })
  ];
}

const nbJson = (cells: TestCell[]) => JSON.parse(notebookText(cells)) as Record<string, unknown>;

async function json<T>(res: Response, schema: { parse(v: unknown): T }): Promise<T> {
  return schema.parse(await res.json());
}

function marks(dir: string): string[] {
  const file = path.join(dir, 'marks.txt');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').sort() : [];
}

async function waitForRun(s: ServerProcess, id: string, done: (r: RunDetail) => boolean = (r) => r.status !== 'running' && r.status !== 'queued'): Promise<RunDetail> {
  return waitFor(async () => {
    const r = await json(await s.api(`/api/v1/runs/${id}`), RunDetail);
    return done(r) ? r : undefined;
  }, 60_000, `run ${id}`);
}

afterAll(stopAllServers);

describe('auth, configuration and bad input', () => {
  let dir: string;
  let s: ServerProcess;
  beforeAll(async () => {
    dir = tempWorkDir('cg-api-');
    s = await startServerProcess(dir, { token: TOKEN, args: ['--max-body-bytes', '65536'] });
  });
  afterAll(async () => {
    s.child.kill('SIGKILL');
    await s.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves health without a token and everything else only with the right one', async () => {
    expect(await json(await fetch(`${s.url}/api/v1/health`), HealthResponse)).toEqual({ status: 'ok', version: expect.any(String), executor: 'local' });
    await expectError(await fetch(`${s.url}/api/v1/runs`), 401, 'unauthorized');
    await expectError(await fetch(`${s.url}/api/v1/openapi.json`), 401, 'unauthorized');
    await expectError(await s.api('/api/v1/runs', { headers: { authorization: `Bearer ${TOKEN}x` } }), 401, 'unauthorized');
    await expectError(await s.api('/api/v1/runs', { headers: { authorization: TOKEN } }), 401, 'unauthorized');
    await expectError(await fetch(`${s.url}/api/v1/nope`), 401, 'unauthorized');
    expect((await s.api('/api/v1/runs')).status).toBe(200);
    await expectError(await s.api('/api/v1/nope'), 404, 'not-found');
  });

  it("answers the framework's own errors in the one shape, and only after the token check", async () => {
    const longId = 'a'.repeat(2000);
    const deep = `{"notebook": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
    // Without the token every one of them is a 401: nothing about the request is looked at first.
    for (const [path, init] of [
      [`/api/v1/runs/${longId}/retry`, { method: 'POST' }],
      ['/api/v1/runs/%ff', {}],
      ['/api/v1/runs', { method: 'PUT' }],
      ['/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep }]
    ] as const) {
      await expectError(await fetch(`${s.url}${path}`, init), 401, 'unauthorized');
    }
    await expectError(await s.api(`/api/v1/runs/${longId}/retry`, { method: 'POST' }), 414, 'bad-request', 'path');
    await expectError(await s.api('/api/v1/runs/%ff'), 400, 'bad-request', 'path');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep }), 400, 'bad-request', 'body');
    const put = await s.api('/api/v1/runs', { method: 'PUT' });
    expect(put.headers.get('allow')).toBe('POST, GET');
    await expectError(put, 405, 'method-not-allowed');
    const query = await s.api('/api/v1/schedules/preview', { method: 'QUERY' });
    expect(query.headers.get('allow')).toBe('POST');
    await expectError(query, 405, 'method-not-allowed');
    expect((await s.api('/api/v1/health', { method: 'HEAD' })).status).toBe(405);
  });

  it('serves an OpenAPI 3 document generated from the schemas', async () => {
    const doc = (await (await s.api('/api/v1/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/runs', '/api/v1/runs/{id}', '/api/v1/runs/{id}/events', '/api/v1/workflows/promote', '/api/v1/workflows/{name}/versions/{a}/diff/{b}'])
    );
    expect(JSON.stringify(doc.paths['/api/v1/runs'].post)).toContain('notebookPath');
  });

  it('answers malformed JSON, unknown fields and wrong types with 400 naming the field', async () => {
    await expectError(await s.api('/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"notebook": ' }), 400, 'bad-request');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(hello), colour: 'red' } }), 400, 'invalid', 'body.colour');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebookPath: 5 } }), 400, 'invalid', 'body.notebookPath');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(hello), noCache: 'yes' } }), 400, 'invalid', 'body.noCache');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: {} }), 400, 'invalid', 'body.notebook');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(hello), notebookPath: 'x.ipynb' } }), 400, 'invalid', 'body.notebook');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(hello), notebookName: '../x.ipynb' } }), 400, 'invalid', 'body.notebookName');
    // Matches the document but cannot be carried out: 422, not 400.
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebookPath: 'missing.ipynb' } }), 422, 'invalid', 'body.notebookPath');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebookPath: '/etc/passwd' } }), 400, 'invalid', 'body.notebookPath');
    // Valid JSON with a key that would reach an object's prototype: refused by name (schemathesis found it answered "malformed JSON").
    for (const key of ['"__proto__": 1', '"constructor": {"prototype": {}}']) {
      const res = await s.api('/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"notebookPath": "hello.ipynb", "params": {${key}}}` });
      expect((await expectError(res, 422, 'invalid', 'body')).error.message).toMatch(/key named (__proto__|constructor\.prototype)/);
    }
    await expectError(await s.api('/api/v1/runs?limit=abc'), 400, 'invalid', 'query.limit');
    await expectError(await s.api('/api/v1/runs?status=bogus'), 400, 'invalid', 'query.status');
    // Query integers are digits: an empty value or 1e2 is not read as 0 or 100.
    await expectError(await s.api('/api/v1/runs?limit='), 400, 'invalid', 'query.limit');
    await expectError(await s.api('/api/v1/runs?limit=1e2'), 400, 'invalid', 'query.limit');
    await expectError(await s.api('/api/v1/runs/r-1/events?after='), 400, 'invalid', 'query.after');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' }), 415, 'bad-request');
  });

  it('treats an empty body of any content type as no body on routes that take none, and refuses a non-empty one', async () => {
    const headers = { 'content-type': 'text/plain' };
    await expectError(await s.api('/api/v1/runs/r-20260101t000000-abcdef/cancel', { method: 'POST', headers, body: '' }), 404, 'not-found');
    await expectError(await s.api('/api/v1/runs/r-20260101t000000-abcdef/cancel', { method: 'POST', headers, body: 'x' }), 400, 'invalid', 'body');
  });

  it('refuses an oversized body with 413', async () => {
    const big = { notebook: 'x'.repeat(100_000) };
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: big }), 413, 'payload-too-large');
  });

  it('answers unknown ids with 404 and hostile ids with 400', async () => {
    await expectError(await s.api('/api/v1/runs/r-20260101t000000-abcdef'), 404, 'not-found');
    await expectError(await s.api('/api/v1/runs/r-20260101t000000-abcdef/events'), 404, 'not-found');
    await expectError(await s.api('/api/v1/runs/r-20260101t000000-abcdef/cancel', { method: 'POST' }), 404, 'not-found');
    await expectError(await s.api('/api/v1/workflows/nothing/versions'), 404, 'not-found');
    await expectError(await s.api('/api/v1/runs/..%2F..%2Fetc%2Fpasswd'), 400, 'invalid', 'path.id');
    await expectError(await s.api('/api/v1/runs/r-1/tasks/..%2F..%2Fx/outputs'), 400, 'invalid', 'path.task');
    await expectError(await s.api('/api/v1/runs/r-1/logs?task=..%2Fx'), 400, 'invalid', 'query.task');
    await expectError(await s.api('/api/v1/workflows/..%2Fetc/versions'), 400, 'invalid', 'path.name');
    await expectError(await s.api('/api/v1/workflows/hello/versions/..%2F1/runs', { method: 'POST', json: {} }), 400, 'invalid', 'path.v');
    await expectError(await s.api('/api/v1/runs/r-1/events', { headers: { 'last-event-id': 'abc' } }), 400, 'invalid', 'header.last-event-id');
  });

  it('answers a notebook that does not compile with 422 and the diagnostics, cell by cell', async () => {
    const broken = [code('const a: number = "text";', { task: 'x' }), code('const b = nothing + 1;', { task: 'y' })];
    const body = await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(broken), notebookName: 'broken.ipynb' } }), 422, 'compile-error');
    expect(body.error.diagnostics?.map((d) => [d.cell, d.task, d.code])).toEqual([
      [0, 'x', 'type-error'],
      [1, 'y', 'missing-producer']
    ]);
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebook: '{"nbformat": 4, "cells": [' } }), 422, 'compile-error');
    expect((await json(await s.api('/api/v1/runs'), ListRunsResponse)).runs).toEqual([]);
  });

  it('compiles without running or storing anything: the typed DAG, or diagnostics with 200 (the live DAG as one edits)', async () => {
    const ok = await json(await s.api('/api/v1/compile', { method: 'POST', json: { notebook: nbJson(hello), notebookName: 'hello.ipynb' } }), CompileResponse);
    expect(ok.ok).toBe(true);
    expect(ok.ir?.tasks.map((t) => t.name)).toEqual(['greet', 'shout']);
    expect(ok.ir?.edges).toEqual([{ from: 'greet', to: 'shout', kind: 'data', values: [{ name: 'message', type: 'string' }] }]);
    const cycle = [code('const a = 1;', { task: 'x', after: ['y'] }), code('const b = a + 1;', { task: 'y' })];
    const bad = await json(await s.api('/api/v1/compile', { method: 'POST', json: { notebook: nbJson(cycle), notebookName: 'cycle.ipynb' } }), CompileResponse);
    expect(bad.ok).toBe(false);
    expect(bad.ir).toBeUndefined();
    expect(bad.diagnostics.map((d) => d.code)).toContain('cycle');
    await expectError(await s.api('/api/v1/compile', { method: 'POST', json: { notebookPath: 'a.ipynb', notebook: nbJson(hello) } }), 400, 'invalid', 'body.notebook');
    await expectError(await s.api('/api/v1/compile', { method: 'POST', json: { notebookPath: '../../etc/passwd' } }), 400, 'invalid', 'body.notebookPath');
    // Nothing filed: no workflow, no compile cache entry, no run.
    expect(fs.existsSync(path.join(dir, '.cellgraph', 'workflows'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.cellgraph', 'compiled'))).toBe(false);
  });

  it('previews a cron expression in a time zone: a sentence and the next fires; bad ones are 400 naming the field', async () => {
    const preview = await json(await s.api('/api/v1/schedules/preview', { method: 'POST', json: { cron: '30 6 * * 1-5', timezone: 'Europe/Berlin', count: 3 } }), CronPreviewResponse);
    expect(preview.description).toMatch(/06:30/);
    expect(preview.nextFires).toHaveLength(3);
    for (const f of preview.nextFires) expect(new Date(f).getTime()).toBeGreaterThan(Date.now());
    await expectError(await s.api('/api/v1/schedules/preview', { method: 'POST', json: { cron: '61 * * * *' } }), 400, 'invalid', 'body.cron');
    await expectError(await s.api('/api/v1/schedules/preview', { method: 'POST', json: { cron: '0 6 * * *', timezone: 'Mars/Olympus' } }), 400, 'invalid', 'body.timezone');
  });

  it('refuses unknown and mistyped parameters with 422 naming the parameter (the request matches the document; the workflow refuses it)', async () => {
    const nb = { notebook: nbJson(hello), notebookName: 'hello.ipynb' };
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { ...nb, params: { colour: 'red' } } }), 422, 'invalid', 'params.colour');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { ...nb, params: { name: 3 } } }), 422, 'invalid', 'params.name');
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { ...nb, paramAssignments: ['name'] } }), 422, 'invalid', 'params');
  });

  it('validates its configuration at boot and refuses a non-loopback host without a token', () => {
    const run = (args: string[], env: Record<string, string>) =>
      spawnSync(process.execPath, [CLI, 'server', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CELLGRAPH_TOKEN: '', ...env }, timeout: 20_000 });
    const open = run(['--host', '0.0.0.0', '--port', '0'], {});
    expect(open.status).toBe(2);
    expect(open.stderr).toContain('refusing to listen on 0.0.0.0 without a token');
    const badPort = run([], { CELLGRAPH_PORT: 'eighty' });
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toContain('--port / CELLGRAPH_PORT');
    const shortToken = run(['--port', '0'], { CELLGRAPH_TOKEN: 'short' });
    expect(shortToken.status).toBe(2);
    expect(shortToken.stderr).toContain('CELLGRAPH_TOKEN: must be at least 16 characters');
    expect(shortToken.stderr).not.toContain('short"');
  });
});

describe('runs', () => {
  let dir: string;
  let s: ServerProcess;
  beforeAll(async () => {
    dir = tempWorkDir('cg-api-runs-');
    s = await startServerProcess(dir, { token: TOKEN });
  });
  afterAll(async () => {
    s.child.kill('SIGKILL');
    await s.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    fs.rmSync(path.join(dir, 'marks.txt'), { force: true });
    fs.rmSync(path.join(dir, 'fail.flag'), { force: true });
  });

  it('runs a notebook from a server path: live logs, events resumed with Last-Event-ID, outputs, executed notebook', async () => {
    fs.writeFileSync(path.join(dir, 'pipe.ipynb'), notebookText(pipeline(1500)));
    const created = await s.api('/api/v1/runs', { method: 'POST', json: { notebookPath: 'pipe.ipynb', noCache: true } });
    expect(created.status).toBe(201);
    const run = await json(created, RunDetail);
    expect(run).toMatchObject({ workflow: 'pipe', notebookPath: path.join(dir, 'pipe.ipynb'), executor: 'local' });

    // Follow until b runs, then drop the connection.
    const first = await readEvents(await s.api(`/api/v1/runs/${run.runId}/events`), (e) => e.task === 'b' && e.status === 'running');
    const lastId = first[first.length - 1].id;
    expect(lastId).toBe(String(first[first.length - 1].event.seq));

    // While b runs its output is readable, marked live.
    const live = await waitFor(async () => {
      const logs = await json(await s.api(`/api/v1/runs/${run.runId}/logs?task=b`), RunLogsResponse);
      const a = logs.tasks[0].attempts[0];
      return a?.text.includes('b working') ? a : undefined;
    }, 10_000, 'live log');
    expect(live.live).toBe(true);

    // Resume: only later events, none twice, ending with the run's end.
    const rest = await readEvents(await s.api(`/api/v1/runs/${run.runId}/events`, { headers: { 'last-event-id': lastId ?? '' } }));
    const seqs = [...first, ...rest].map((e) => e.event.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(rest[rest.length - 1].event).toMatchObject({ kind: 'run', status: 'succeeded' });
    expect(rest.filter((e) => e.event.kind === 'task' && e.event.status === 'succeeded').map((e) => e.event.task)).toEqual(['b', 'c']);

    const done = await json(await s.api(`/api/v1/runs/${run.runId}`), RunDetail);
    expect(done.status).toBe('succeeded');
    expect(done.tasks.map((t) => [t.name, t.status, t.attempts])).toEqual([
      ['a', 'succeeded', 1],
      ['b', 'succeeded', 1],
      ['c', 'succeeded', 1]
    ]);
    const outputs = await json(await s.api(`/api/v1/runs/${run.runId}/tasks/b/outputs`), TaskOutputsResponse);
    expect(outputs.outputs).toEqual([expect.objectContaining({ name: 'y', type: 'number', value: 2 })]);
    const logs = await json(await s.api(`/api/v1/runs/${run.runId}/logs?task=b`), RunLogsResponse);
    expect(logs.tasks[0].attempts[0]).toMatchObject({ live: false, text: expect.stringContaining('b working') });
    const nb = await s.api(`/api/v1/runs/${run.runId}/notebook`);
    expect(nb.headers.get('content-type')).toContain('application/x-ipynb+json');
    expect(((await nb.json()) as { metadata: { cellgraph: { runId: string } } }).metadata.cellgraph.runId).toBe(run.runId);
    await expectError(await s.api(`/api/v1/runs/${run.runId}/tasks/zzz/outputs`), 404, 'not-found');

    // A finished run's stream replays everything and ends; resuming past the end ends at once.
    const replay = await readEvents(await s.api(`/api/v1/runs/${run.runId}/events`));
    expect(replay.map((e) => e.event.seq)).toEqual(seqs);
    expect(await readEvents(await s.api(`/api/v1/runs/${run.runId}/events?after=${seqs[seqs.length - 1]}`))).toEqual([]);

    const listed = await json(await s.api('/api/v1/runs?limit=5'), ListRunsResponse);
    expect(listed.runs[0]).toMatchObject({ id: run.runId, status: 'succeeded', done: 3, total: 3 });
    expect(marks(dir)).toEqual(['a', 'b', 'c']);
  });

  it('cancels a running run (and refuses to cancel it twice)', async () => {
    const run = await json(
      await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(pipeline(20_000)), notebookName: 'slow.ipynb', noCache: true } }),
      RunDetail
    );
    await waitForRun(s, run.runId, (r) => r.tasks[1].status === 'running');
    const cancelled = await json(await s.api(`/api/v1/runs/${run.runId}/cancel`, { method: 'POST' }), RunDetail);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.tasks.map((t) => t.status)).toEqual(['succeeded', 'cancelled', 'skipped']);
    await expectError(await s.api(`/api/v1/runs/${run.runId}/cancel`, { method: 'POST' }), 409, 'conflict');
  });

  it('retries a failed run from the failed task, reusing what succeeded', async () => {
    fs.writeFileSync(path.join(dir, 'fail.flag'), '');
    const nb = { notebook: nbJson(pipeline(10)), notebookName: 'flaky.ipynb', noCache: true };
    const run = await json(await s.api('/api/v1/runs', { method: 'POST', json: nb }), RunDetail);
    const failed = await waitForRun(s, run.runId);
    expect(failed.status).toBe('failed');
    expect(failed.tasks.map((t) => t.status)).toEqual(['succeeded', 'failed', 'skipped']);
    await expectError(await s.api(`/api/v1/runs/${run.runId}/retry`, { method: 'POST', json: { bogus: true } }), 400, 'invalid', 'body.bogus');

    fs.rmSync(path.join(dir, 'fail.flag'));
    const retried = await s.api(`/api/v1/runs/${run.runId}/retry`, { method: 'POST', json: { noCache: true } });
    expect(retried.status).toBe(201);
    const retry = await json(retried, RunDetail);
    expect(retry.retryOf).toBe(run.runId);
    expect(retry.runId).not.toBe(run.runId);
    const done = await waitForRun(s, retry.runId);
    expect(done.status).toBe('succeeded');
    expect(done.tasks.map((t) => [t.name, t.status, t.attempts])).toEqual([
      ['a', 'cached', 0],
      ['b', 'succeeded', 1],
      ['c', 'succeeded', 1]
    ]);
    expect(marks(dir)).toEqual(['a', 'b', 'c']);
    const events = await readEvents(await s.api(`/api/v1/runs/${retry.runId}/events`));
    expect(events.find((e) => e.event.task === 'a' && e.event.status === 'cached')?.event.message).toBe(`reused from run ${run.runId}`);
    await expectError(await s.api(`/api/v1/runs/${retry.runId}/retry`, { method: 'POST' }), 409, 'conflict');
  });

  it('promotes a notebook once per content, numbers versions, diffs them by task and runs a version', async () => {
    const promote = (cells: TestCell[]) => s.api('/api/v1/workflows/promote', { method: 'POST', json: { notebook: nbJson(cells), notebookName: 'prod.ipynb' } });
    const first = await json(await promote(pipeline(10)), PromoteResponse);
    expect(first).toMatchObject({ created: true, version: { workflow: 'prod', number: 1, tasks: ['a', 'b', 'c'] } });
    const again = await json(await promote(pipeline(10)), PromoteResponse);
    expect(again).toMatchObject({ created: false, version: { number: 1, version: first.version.version } });
    const second = await json(await promote(pipeline(10, '\nconsole.log(y);')), PromoteResponse);
    expect(second.version.number).toBe(2);

    const versions = await json(await s.api('/api/v1/workflows/prod/versions'), ListVersionsResponse);
    expect(versions.versions.map((v) => v.number)).toEqual([1, 2]);
    const listed = await json(await s.api('/api/v1/workflows'), ListWorkflowsResponse);
    expect(listed.workflows).toEqual([expect.objectContaining({ workflow: 'prod', versions: 2, latest: expect.objectContaining({ number: 2 }) })]);

    const diff = await json(await s.api(`/api/v1/workflows/prod/versions/1/diff/${second.version.version}`), VersionDiffResponse);
    expect(diff.tasks.map((t) => [t.task, t.change, t.code])).toEqual([
      ['a', 'unchanged', false],
      ['b', 'changed', true],
      ['c', 'unchanged', false]
    ]);
    await expectError(await s.api('/api/v1/workflows/prod/versions/9/diff/1'), 404, 'not-found');

    const run = await s.api('/api/v1/workflows/prod/versions/1/runs', { method: 'POST', json: { params: { sleepMs: 5 } } });
    expect(run.status).toBe(201);
    const detail = await json(run, RunDetail);
    expect(detail.version).toBe(first.version.version);
    expect((await waitForRun(s, detail.runId)).status).toBe('succeeded');
  });
});

describe('crash safety', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempWorkDir('cg-api-crash-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('resumes a run after SIGKILL: succeeded tasks are not re-run, the running one is retried, each task succeeds once', async () => {
    const s1 = await startServerProcess(dir, { token: TOKEN });
    const run = await json(
      await s1.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(pipeline(3000)), notebookName: 'crash.ipynb' } }),
      RunDetail
    );
    await readEvents(await s1.api(`/api/v1/runs/${run.runId}/events`), (e) => e.task === 'b' && e.status === 'running');
    s1.child.kill('SIGKILL');
    await s1.exited;
    expect(marks(dir)).toEqual(['a']);

    const restartedAt = Date.now();
    const s2 = await startServerProcess(dir, { token: TOKEN });
    await waitFor(async () => (s2.stderr().includes('resumed 1 unfinished run(s)') ? true : undefined), 30_000, 'resume message');
    const done = await waitForRun(s2, run.runId);
    expect(done.status).toBe('succeeded');
    expect(done.tasks.map((t) => [t.name, t.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded']
    ]);
    expect(done.tasks[0].attempts).toBe(1);
    expect(done.tasks[1].attempts).toBe(2);
    // Let any orphan of the killed server finish its sleep: it must have been stopped.
    await new Promise((r) => setTimeout(r, Math.max(0, 3500 - (Date.now() - restartedAt))));
    expect(marks(dir)).toEqual(['a', 'b', 'c']);

    const events = await readEvents(await s2.api(`/api/v1/runs/${run.runId}/events`));
    const seqs = events.map((e) => e.event.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(events.some((e) => e.event.kind === 'run' && e.event.message === 'resumed after a server restart')).toBe(true);
    expect(events.filter((e) => e.event.kind === 'run' && e.event.status === 'succeeded')).toHaveLength(1);
    const listed = await json(await s2.api('/api/v1/runs'), ListRunsResponse);
    expect(listed.runs.map((r) => r.id)).toEqual([run.runId]);
    s2.child.kill('SIGTERM');
    expect(await s2.exited).toBe(0);
  });

  it('drains on a SIGTERM sent the moment it prints `listening:` (before, it sometimes died of the signal undrained)', async () => {
    // The window was the code after the `listening:` line: a supervisor reading that line
    // and signalling at once beat the handler (8 of 15 starts died of SIGTERM, measured).
    for (let i = 0; i < 8; i++) {
      const s = await startServerProcess(dir, { token: TOKEN });
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    }
  });

  it('drains on SIGTERM: new runs refused, runs in flight finish within the grace period or are cancelled', async () => {
    const s1 = await startServerProcess(dir, { token: TOKEN, args: ['--grace-seconds', '30'] });
    const quick = await json(await s1.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(pipeline(1500)), notebookName: 'quick.ipynb' } }), RunDetail);
    await waitForRun(s1, quick.runId, (r) => r.tasks[1].status === 'running');
    s1.child.kill('SIGTERM');
    await waitFor(async () => ((await json(await fetch(`${s1.url}/api/v1/health`), HealthResponse)).status === 'draining' ? true : undefined), 30_000, 'draining');
    await expectError(await s1.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(hello) } }), 503, 'unavailable');
    // A second SIGTERM while draining (a supervisor signalling twice) must not kill it mid-drain.
    s1.child.kill('SIGTERM');
    expect(await s1.exited).toBe(0);
    expect(s1.stderr()).toContain('SIGTERM again: already draining');
    expect(s1.stderr()).toContain('1 run(s) finished, 0 cancelled');

    const s2 = await startServerProcess(dir, { token: TOKEN, args: ['--grace-seconds', '0.5'] });
    expect((await json(await s2.api(`/api/v1/runs/${quick.runId}`), RunDetail)).status).toBe('succeeded');
    const slow = await json(await s2.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(pipeline(30_000)), notebookName: 'slow.ipynb' } }), RunDetail);
    await waitForRun(s2, slow.runId, (r) => r.tasks[1].status === 'running');
    s2.child.kill('SIGTERM');
    expect(await s2.exited).toBe(0);
    expect(s2.stderr()).toContain('0 run(s) finished, 1 cancelled');

    const s3 = await startServerProcess(dir, { token: TOKEN });
    expect(s3.stderr()).not.toContain('resumed');
    expect((await json(await s3.api(`/api/v1/runs/${slow.runId}`), RunDetail)).status).toBe('cancelled');
    s3.child.kill('SIGTERM');
    await s3.exited;
  });
});

describe('remote CLI', () => {
  let dir: string;
  let s: ServerProcess;
  beforeAll(async () => {
    dir = tempWorkDir('cg-api-cli-');
    s = await startServerProcess(dir, { token: TOKEN });
  });
  afterAll(async () => {
    s.child.kill('SIGKILL');
    await s.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const cellgraph = (args: string[], token: string = TOKEN) => {
    const r = spawnSync(process.execPath, [CLI, '--server', s.url, ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CELLGRAPH_TOKEN: token, XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_HOME: '' },
      timeout: 60_000
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  it('runs, lists, shows logs, promotes and lists versions with the shapes of local mode', () => {
    fs.writeFileSync(path.join(dir, 'hello.ipynb'), notebookText(hello));
    const run = cellgraph(['run', 'hello.ipynb', '-p', 'name=remote', '--json']);
    expect(run.code).toBe(0);
    const summary = RunSummary.parse(JSON.parse(run.stdout));
    expect(summary.tasks.map((t) => [t.name, t.status])).toEqual([
      ['greet', 'succeeded'],
      ['shout', 'succeeded']
    ]);
    expect(run.stderr).toMatch(/greet\s+succeeded/);
    expect(Object.keys(JSON.parse(run.stdout)).sort()).toEqual(Object.keys(summary).sort());

    const runs = cellgraph(['runs']);
    expect(runs).toMatchObject({ code: 0, stdout: expect.stringContaining(summary.runId) });
    expect(runs.stdout).toMatch(/^RUN\s+WORKFLOW\s+STATUS/);
    const rows = JSON.parse(cellgraph(['runs', '--json']).stdout) as { id: string; home: string; done: number; total: number }[];
    expect(rows[0]).toMatchObject({ id: summary.runId, home: s.url, done: 2, total: 2 });
    // One run, shown as `run` ended: from the server's run detail.
    expect(cellgraph(['runs', summary.runId])).toMatchObject({ code: 0, stdout: expect.stringMatching(/greet\s+succeeded/) });
    expect(RunSummary.parse(JSON.parse(cellgraph(['runs', summary.runId, '--json']).stdout)).tasks).toEqual(summary.tasks);
    expect(cellgraph(['logs', summary.runId, 'greet'])).toMatchObject({ code: 0, stdout: expect.stringContaining('hello remote') });

    expect(cellgraph(['promote', 'hello.ipynb'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^hello version 1 \(sha256:/) });
    expect(cellgraph(['promote', 'hello.ipynb']).stdout).toContain('unchanged, already promoted');
    expect(cellgraph(['versions', 'hello'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/VERSION\s+HASH\s+PROMOTED\s+TASKS\n1\s+sha256:/) });

    expect(cellgraph(['cancel', summary.runId])).toMatchObject({ code: 1, stderr: expect.stringContaining('only a queued or running run can be cancelled') });
    expect(cellgraph(['retry', summary.runId])).toMatchObject({ code: 1, stderr: expect.stringContaining('only a failed or cancelled run can be retried') });
    expect(cellgraph(['logs', 'r-20260101t000000-abcdef'])).toMatchObject({ code: 2, stderr: expect.stringContaining('not found') });
    expect(cellgraph(['runs'], 'wrong-token-0123456789')).toMatchObject({ code: 2, stderr: expect.stringContaining('CELLGRAPH_TOKEN') });
  });

  it('retries a failed run remotely and prints the compiler errors of a broken notebook', () => {
    fs.writeFileSync(path.join(dir, 'fail.flag'), '');
    fs.writeFileSync(path.join(dir, 'flaky.ipynb'), notebookText(pipeline(10)));
    const failed = cellgraph(['run', 'flaky.ipynb', '--json']);
    expect(failed.code).toBe(1);
    const first = RunSummary.parse(JSON.parse(failed.stdout));
    fs.rmSync(path.join(dir, 'fail.flag'));
    const retried = cellgraph(['retry', first.runId, '--json']);
    expect(retried.code).toBe(0);
    expect(RunSummary.parse(JSON.parse(retried.stdout)).tasks.map((t) => t.status)).toEqual(['cached', 'succeeded', expect.stringMatching(/succeeded|cached/)]);

    fs.writeFileSync(path.join(dir, 'broken.ipynb'), notebookText([code('const a: number = "text";', { task: 'x' })]));
    const broken = cellgraph(['run', 'broken.ipynb']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/cell 0 \(task x\):1:\d+: error type-error/);
  });
});
