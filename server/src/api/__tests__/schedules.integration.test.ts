/**
 * Schedules and webhooks against the real `cellgraph server` process on 127.0.0.1, over
 * HTTP and through the remote CLI: create/list/get/update/pause/resume/delete with next
 * fires and descriptions, the bad-input corpus (bad cron, unknown zones, unknown fields,
 * unknown versions, taken ids, hostile ids), webhook retries after a 500 and a receiver
 * that hangs, and a `runOnce` fire missed while the server was down run on restart.
 * Every server is stopped by PID.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import {
  ApiError,
  HealthResponse,
  ListRunsResponse,
  ListSchedulesResponse,
  PromoteResponse,
  RunDetail,
  RunNotification,
  RunNotificationsResponse,
  ScheduleDeleted,
  ScheduleView
} from '@cellgraph/schema';
import { HookServer, startHookServer } from '@cellgraph/dev/test-support/hook-server';
import { scheduledRunId } from '../../scheduler';
import { TestCell, code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { expectError } from './expect-error';
import { CLI, ServerProcess, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(120_000);

const TOKEN = 'test-token-schedules-0123456789';

const cells = (extra = ''): TestCell[] => [
  code('const n = 1;\nconst fail = false;', { role: 'parameters' }),
  code(`const doubled: number = n * 2;\nif (fail) throw new Error("asked to fail");${extra}`, { task: 'a' }),
  code('const text: string = `doubled=${doubled}`;\nconsole.log(text);', { task: 'b' })
];
const nbJson = (c: TestCell[]) => JSON.parse(notebookText(c)) as Record<string, unknown>;

async function json<T>(res: Response, schema: { parse(v: unknown): T }, status = 200): Promise<T> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  return schema.parse(JSON.parse(text));
}

async function promote(s: ServerProcess, name: string, c: TestCell[] = cells()): Promise<PromoteResponse> {
  return json(await s.api('/api/v1/workflows/promote', { method: 'POST', json: { notebook: nbJson(c), notebookName: `${name}.ipynb` } }), PromoteResponse, 201);
}

async function waitForRun(s: ServerProcess, id: string): Promise<RunDetail> {
  return waitFor(async () => {
    const res = await s.api(`/api/v1/runs/${id}`);
    if (res.status === 404) return undefined;
    const r = RunDetail.parse(await res.json());
    return r.status !== 'running' && r.status !== 'queued' ? r : undefined;
  }, 60_000, `run ${id}`);
}

/** The hour and minute of an instant on the wall clock of `zone`. */
function wallClock(iso: string, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

afterAll(stopAllServers);

describe('schedules over HTTP and the remote CLI', () => {
  let dir: string;
  let s: ServerProcess;
  let v1: PromoteResponse;
  let v2: PromoteResponse;
  beforeAll(async () => {
    dir = tempWorkDir('cg-api-sched-');
    s = await startServerProcess(dir, { token: TOKEN });
    v1 = await promote(s, 'nightly');
    v2 = await promote(s, 'nightly', cells('\nconsole.log(doubled);'));
  });
  afterAll(async () => {
    s.child.kill('SIGKILL');
    await s.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates a schedule with next fires in its zone and a description; lists, gets, updates, pauses, resumes and deletes it', async () => {
    const created = await json(
      await s.api('/api/v1/schedules', {
        method: 'POST',
        json: { id: 'berlin', workflow: 'nightly', version: v1.version.version, cron: '30 2 * * *', timezone: 'Europe/Berlin', params: { n: 4 } }
      }),
      ScheduleView,
      201
    );
    expect(created).toMatchObject({
      id: 'berlin',
      workflow: 'nightly',
      version: v1.version.version,
      params: { n: 4 },
      concurrencyPolicy: 'Forbid',
      missedRunPolicy: 'skip',
      paused: false,
      description: 'At 02:30, every day (Europe/Berlin)'
    });
    expect(created.lastFiredAt).toBeUndefined();
    expect(created.nextFires).toHaveLength(5);
    expect(created.nextFires.map((f) => wallClock(f, 'Europe/Berlin'))).toEqual(Array(5).fill('02:30'));
    expect(Date.parse(created.nextFires[0])).toBeGreaterThan(Date.now());

    const auto = await json(await s.api('/api/v1/schedules', { method: 'POST', json: { workflow: 'nightly', version: v2.version.version, cron: '*/15 * * * *' } }), ScheduleView, 201);
    expect(auto.id).toMatch(/^nightly-[0-9a-f]{6}$/);
    expect(auto).toMatchObject({ timezone: 'UTC', params: {}, description: 'Every 15 minutes, every hour, every day (UTC)' });

    const listed = await json(await s.api('/api/v1/schedules'), ListSchedulesResponse);
    expect(listed.schedules.map((x) => x.id)).toEqual([auto.id, 'berlin'].sort());
    expect(await json(await s.api('/api/v1/schedules/berlin'), ScheduleView)).toEqual({ ...created, nextFires: expect.any(Array) });

    const updated = await json(
      await s.api('/api/v1/schedules/berlin', {
        method: 'PATCH',
        json: { cron: '0 9 * * 1-5', timezone: 'America/New_York', version: v2.version.version, concurrencyPolicy: 'Replace', webhookUrl: 'http://127.0.0.1:9/hook' }
      }),
      ScheduleView
    );
    expect(updated).toMatchObject({ cron: '0 9 * * 1-5', version: v2.version.version, concurrencyPolicy: 'Replace', webhookUrl: 'http://127.0.0.1:9/hook', params: { n: 4 } });
    expect(updated.description).toBe('At 09:00, Monday through Friday (America/New_York)');
    expect(updated.nextFires.map((f) => wallClock(f, 'America/New_York'))).toEqual(Array(5).fill('09:00'));
    expect(new Set(updated.nextFires.map((f) => new Date(f).getUTCDay())).has(0)).toBe(false);
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
    const unhooked = await json(await s.api('/api/v1/schedules/berlin', { method: 'PATCH', json: { webhookUrl: null } }), ScheduleView);
    expect(unhooked.webhookUrl).toBeUndefined();

    const paused = await json(await s.api('/api/v1/schedules/berlin/pause', { method: 'POST' }), ScheduleView);
    expect(paused).toMatchObject({ paused: true, nextFires: [] });
    const resumed = await json(await s.api('/api/v1/schedules/berlin/resume', { method: 'POST', json: {} }), ScheduleView);
    expect(resumed.paused).toBe(false);
    expect(resumed.nextFires).toEqual(updated.nextFires);

    expect(await json(await s.api('/api/v1/schedules/berlin', { method: 'DELETE' }), ScheduleDeleted)).toEqual({ id: 'berlin', deleted: true });
    await expectError(await s.api('/api/v1/schedules/berlin'), 404, 'not-found');
    await expectError(await s.api('/api/v1/schedules/berlin', { method: 'DELETE' }), 404, 'not-found');
    await expectError(await s.api('/api/v1/schedules/berlin/pause', { method: 'POST' }), 404, 'not-found');
    await expectError(await s.api('/api/v1/schedules/berlin', { method: 'PATCH', json: { paused: true } }), 404, 'not-found');
    expect((await json(await s.api('/api/v1/schedules'), ListSchedulesResponse)).schedules.map((x) => x.id)).toEqual([auto.id]);
    expect((await s.api(`/api/v1/schedules/${auto.id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('answers bad cron, unknown zones, unknown fields and wrong types with 400 naming the body field', async () => {
    const base = { workflow: 'nightly', version: v1.version.version, cron: '0 3 * * *' };
    const post = (body: Record<string, unknown>) => s.api('/api/v1/schedules', { method: 'POST', json: { ...base, ...body } });
    await expectError(await post({ cron: '61 * * * *' }), 400, 'invalid', 'body.cron');
    await expectError(await post({ cron: '* * *' }), 400, 'invalid', 'body.cron');
    await expectError(await post({ cron: '0 0 30 2 *' }), 422, 'invalid', 'body.cron'); // well-formed, never fires
    await expectError(await post({ cron: '@daily' }), 400, 'invalid', 'body.cron');
    await expectError(await post({ cron: '0 0 * * * *' }), 400, 'invalid', 'body.cron');
    await expectError(await post({ cron: '0 0 ? * *' }), 400, 'invalid', 'body.cron');
    const zone = await expectError(await post({ timezone: 'Mars/Olympus' }), 400, 'invalid', 'body.timezone');
    expect(zone.error.message).toContain('unknown time zone "Mars/Olympus"');
    await expectError(await post({ timezone: '+01:00' }), 400, 'invalid', 'body.timezone');
    await expectError(await post({ timeZone: 'Europe/Berlin' }), 400, 'invalid', 'body.timeZone');
    await expectError(await post({ concurrencyPolicy: 'Sometimes' }), 400, 'invalid', 'body.concurrencyPolicy');
    await expectError(await post({ missedRunPolicy: 'all' }), 400, 'invalid', 'body.missedRunPolicy');
    await expectError(await post({ paused: 'yes' }), 400, 'invalid', 'body.paused');
    await expectError(await post({ id: 'Has Spaces' }), 400, 'invalid', 'body.id');
    await expectError(await post({ id: '../../etc' }), 400, 'invalid', 'body.id');
    await expectError(await post({ webhookUrl: 'file:///etc/passwd' }), 400, 'invalid', 'body.webhookUrl');
    await expectError(await post({ version: 'v1' }), 400, 'invalid', 'body.version');
    await expectError(await post({ params: { n: 'four' } }), 422, 'invalid', 'body.params.n');
    await expectError(await post({ params: { colour: 'red' } }), 422, 'invalid', 'body.params.colour');
    await expectError(await s.api('/api/v1/schedules', { method: 'POST', json: { workflow: 'nightly', cron: '0 3 * * *' } }), 400, 'invalid', 'body.version');
    await expectError(await s.api('/api/v1/schedules', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"cron": ' }), 400, 'bad-request');

    // Unknown workflow or version: 404; a taken id: 409.
    await expectError(await post({ version: `sha256:${'0'.repeat(64)}` }), 404, 'not-found');
    await expectError(await post({ workflow: 'ghost' }), 404, 'not-found');
    await json(await post({ id: 'taken' }), ScheduleView, 201);
    await expectError(await post({ id: 'taken' }), 409, 'conflict', 'body.id');

    // PATCH: strict, the workflow and id fixed, the same checks.
    const patch = (body: Record<string, unknown>) => s.api('/api/v1/schedules/taken', { method: 'PATCH', json: body });
    await expectError(await patch({ workflow: 'other' }), 400, 'invalid', 'body.workflow');
    await expectError(await patch({ id: 'renamed' }), 400, 'invalid', 'body.id');
    await expectError(await patch({ cron: '0 0 31 4 *' }), 422, 'invalid', 'body.cron');
    await expectError(await patch({ timezone: 'Europe/Atlantis' }), 400, 'invalid', 'body.timezone');
    await expectError(await patch({ version: `sha256:${'0'.repeat(64)}` }), 404, 'not-found');
    await expectError(await patch({ params: { fail: 'no' } }), 422, 'invalid', 'body.params.fail');
    await expectError(await s.api('/api/v1/schedules/taken/pause', { method: 'POST', json: { now: true } }), 400, 'invalid', 'body');

    // Hostile ids in the path, and no token.
    await expectError(await s.api('/api/v1/schedules/..%2F..%2Fetc%2Fpasswd'), 400, 'invalid', 'path.id');
    await expectError(await s.api('/api/v1/schedules/UPPER', { method: 'DELETE' }), 400, 'invalid', 'path.id');
    await expectError(await fetch(`${s.url}/api/v1/schedules`), 401, 'unauthorized');
    await expectError(await fetch(`${s.url}/api/v1/schedules`, { method: 'POST', body: JSON.stringify(base), headers: { 'content-type': 'application/json' } }), 401, 'unauthorized');
    const unchanged = await json(await s.api('/api/v1/schedules/taken'), ScheduleView);
    expect(unchanged).toMatchObject({ cron: '0 3 * * *', params: {}, workflow: 'nightly' });
    await s.api('/api/v1/schedules/taken', { method: 'DELETE' });
  });

  it('documents the schedule routes in the OpenAPI document', async () => {
    const doc = (await (await s.api('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/schedules', '/api/v1/schedules/{id}', '/api/v1/schedules/{id}/pause', '/api/v1/schedules/{id}/resume', '/api/v1/runs/{id}/notifications'])
    );
    expect(Object.keys(doc.paths['/api/v1/schedules/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    const create = JSON.stringify(doc.paths['/api/v1/schedules'].post);
    for (const field of ['cron', 'timezone', 'concurrencyPolicy', 'missedRunPolicy', 'webhookUrl']) expect(create).toContain(field);
    expect(JSON.stringify(doc.paths['/api/v1/runs'].post)).toContain('webhookUrl');
  });

  it('manages schedules from the remote CLI with the shapes the API answers', () => {
    const cellgraph = (args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, '--server', s.url, 'schedules', ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, CELLGRAPH_TOKEN: TOKEN, XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_HOME: '' },
        timeout: 60_000
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const created = cellgraph(['create', 'nightly', '--id', 'cli', '--cron', '30 2 * * *', '--timezone', 'Europe/Berlin', '--workflow-version', '1', '-p', 'n=7', '-p', 'fail=false']);
    expect(created).toMatchObject({ code: 0, stdout: expect.stringMatching(/^schedule cli: At 02:30, every day \(Europe\/Berlin\); next 20\d\d-/) });
    const view = ScheduleView.parse(JSON.parse(cellgraph(['get', 'cli', '--json']).stdout));
    expect(view).toMatchObject({ version: v1.version.version, params: { n: 7, fail: false }, missedRunPolicy: 'skip' });
    expect(cellgraph(['get', 'cli']).stdout).toMatch(/^id: +cli\n[\s\S]*description: +At 02:30, every day \(Europe\/Berlin\)\n[\s\S]*next fires: +20/);

    const latest = cellgraph(['create', 'nightly', '--cron', '0 * * * *', '--missed', 'runOnce', '--concurrency', 'Allow', '--json']);
    expect(latest.code).toBe(0);
    const auto = ScheduleView.parse(JSON.parse(latest.stdout));
    expect(auto).toMatchObject({ version: v2.version.version, missedRunPolicy: 'runOnce', concurrencyPolicy: 'Allow' });

    const list = cellgraph(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+WORKFLOW\s+CRON\s+TIMEZONE\s+STATE\s+NEXT\s+POLICY\n/);
    expect(list.stdout).toMatch(/\ncli\s+nightly\s+30 2 \* \* \*\s+Europe\/Berlin\s+active\s+20\S+\s+Forbid\/skip/);
    expect((JSON.parse(cellgraph(['list', '--json']).stdout) as unknown[]).map((x) => ScheduleView.parse(x).id).sort()).toEqual([auto.id, 'cli'].sort());

    expect(cellgraph(['update', 'cli', '--cron', '0 6 * * 1', '-p', 'n=9', '--webhook', 'http://127.0.0.1:9/h'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^schedule cli: At 06:00, only on Monday \(Europe\/Berlin\); next 20/)
    });
    const after = ScheduleView.parse(JSON.parse(cellgraph(['get', 'cli', '--json']).stdout));
    expect(after).toMatchObject({ cron: '0 6 * * 1', params: { n: 9, fail: false }, webhookUrl: 'http://127.0.0.1:9/h' });
    expect(ScheduleView.parse(JSON.parse(cellgraph(['update', 'cli', '--no-webhook', '--json']).stdout)).webhookUrl).toBeUndefined();
    // A name and the cache policy (recompute: every fire runs every task).
    expect(ScheduleView.parse(JSON.parse(cellgraph(['update', 'cli', '--name', 'nightly report', '--cache', 'recompute', '--json']).stdout))).toMatchObject({ name: 'nightly report', cachePolicy: 'recompute' });
    expect(cellgraph(['get', 'cli']).stdout).toMatch(/\nname: +nightly report\n[\s\S]*cache recompute/);
    expect(cellgraph(['update', 'cli', '--cache', 'sometimes'])).toMatchObject({ code: 2, stderr: expect.stringContaining('body.cachePolicy') });
    expect(ScheduleView.parse(JSON.parse(cellgraph(['update', 'cli', '--name', '', '--json']).stdout)).name).toBeUndefined();
    expect(cellgraph(['pause', 'cli']).stdout).toMatch(/; paused\n$/);
    expect(cellgraph(['resume', 'cli']).stdout).toMatch(/; next 20/);
    expect(cellgraph(['delete', 'cli'])).toMatchObject({ code: 0, stdout: 'schedule cli deleted\n' });

    expect(cellgraph(['get', 'cli'])).toMatchObject({ code: 2, stderr: expect.stringContaining('no schedule "cli"') });
    expect(cellgraph(['create', 'nightly', '--cron', '0 0 30 2 *'])).toMatchObject({ code: 2, stderr: expect.stringContaining('body.cron: "0 0 30 2 *" never fires') });
    expect(cellgraph(['create', 'nightly', '--cron', '0 0 * * *', '--timezone', 'Nowhere/Land'])).toMatchObject({ code: 2, stderr: expect.stringContaining('body.timezone') });
    expect(cellgraph(['create', 'nightly', '--cron', '0 0 * * *', '-p', 'n=many'])).toMatchObject({ code: 2, stderr: expect.stringContaining('parameter "n" (number): must be a number, got "many"') });
    expect(cellgraph(['create', 'ghost', '--cron', '0 0 * * *'])).toMatchObject({ code: 2, stderr: expect.stringContaining('workflow "ghost" has no promoted versions') });
    expect(cellgraph(['create', 'nightly', '--id', auto.id, '--cron', '0 0 * * *'])).toMatchObject({ code: 1, stderr: expect.stringContaining('already exists') });
    expect(cellgraph(['delete', auto.id]).code).toBe(0);
  });
});

describe('webhooks of runs', () => {
  let dir: string;
  let s: ServerProcess;
  const hooks: HookServer[] = [];
  beforeAll(async () => {
    dir = tempWorkDir('cg-api-hooks-');
    s = await startServerProcess(dir, { token: TOKEN, args: ['--webhook-attempts', '3', '--webhook-timeout-seconds', '0.5'] });
  });
  afterAll(async () => {
    s.child.kill('SIGKILL');
    await s.exited;
    await Promise.all(hooks.map((h) => h.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const hook = async (answer: (i: number) => number | 'hang') => {
    const h = await startHookServer(answer);
    hooks.push(h);
    return h;
  };
  const deliveries = (runId: string) => s.api(`/api/v1/runs/${runId}/notifications`).then((r) => json(r, RunNotificationsResponse));

  it('retries a webhook that answers 500, then records it delivered with the run summary', async () => {
    const h = await hook((i) => (i === 0 ? 500 : 200));
    const run = await json(
      await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(cells()), notebookName: 'hooked.ipynb', params: { n: 5 }, webhookUrl: `${h.url}/done?secret=s3` } }),
      RunDetail,
      201
    );
    expect((await waitForRun(s, run.runId)).status).toBe('succeeded');
    const done = await waitFor(async () => {
      const d = (await deliveries(run.runId)).deliveries;
      return d[0]?.status === 'delivered' ? d : undefined;
    }, 20_000, 'delivery');
    expect(done).toEqual([expect.objectContaining({ url: `${h.url}/done?secret=s3`, source: 'run', attempts: 2, statusCode: 200, error: expect.stringContaining('HTTP 500') })]);
    expect(h.received.map((r) => r.path)).toEqual(['/done?secret=s3', '/done?secret=s3']);
    const note = RunNotification.parse(h.received[1].body);
    expect(note).toMatchObject({
      event: 'run.finished',
      runId: run.runId,
      workflow: 'hooked',
      version: run.version,
      status: 'succeeded',
      params: { n: 5, fail: false },
      tasks: [
        { name: 'a', status: 'succeeded', attempts: 1, cached: false },
        { name: 'b', status: 'succeeded', attempts: 1, cached: false }
      ]
    });
    expect(note.scheduleId).toBeUndefined();
    expect(Date.parse(note.finishedAt)).not.toBeNaN();
    expect(s.stderr()).toMatch(/webhook http:\/\/127\.0\.0\.1:\d+\/done for run \S+: attempt 1 of 3 failed \(HTTP 500/);
    expect(s.stderr()).not.toContain('secret=s3');
  });

  it('notifies a failed run of a promoted version, with each task status', async () => {
    const h = await hook(() => 204);
    const v = await promote(s, 'flaky');
    const run = await json(
      await s.api('/api/v1/workflows/flaky/versions/1/runs', { method: 'POST', json: { params: { fail: true }, webhookUrl: h.url } }),
      RunDetail,
      201
    );
    expect((await waitForRun(s, run.runId)).status).toBe('failed');
    await waitFor(async () => ((await deliveries(run.runId)).deliveries[0]?.status === 'delivered' ? true : undefined), 20_000, 'delivery');
    expect(RunNotification.parse(h.received[0].body)).toMatchObject({
      runId: run.runId,
      version: v.version.version,
      status: 'failed',
      error: 'task a failed',
      tasks: [expect.objectContaining({ name: 'a', status: 'failed' }), expect.objectContaining({ name: 'b', status: 'skipped' })]
    });
  });

  it('a webhook that hangs holds up neither the run nor the server; its delivery is recorded failed after the timeouts', async () => {
    const h = await hook(() => 'hang');
    const t0 = Date.now();
    const run = await json(
      await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(cells()), notebookName: 'hanging.ipynb', webhookUrl: h.url, noCache: true } }),
      RunDetail,
      201
    );
    expect((await waitForRun(s, run.runId)).status).toBe('succeeded');
    // While the receiver hangs, the server answers and runs other runs.
    await waitFor(async () => (h.received.length >= 1 ? true : undefined), 10_000, 'first attempt');
    expect((await json(await fetch(`${s.url}/api/v1/health`), HealthResponse)).status).toBe('ok');
    const other = await json(await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(cells()), notebookName: 'other.ipynb', noCache: true } }), RunDetail, 201);
    expect((await waitForRun(s, other.runId)).status).toBe('succeeded');
    const failed = await waitFor(async () => {
      const d = (await deliveries(run.runId)).deliveries;
      return d[0]?.status === 'failed' ? d[0] : undefined;
    }, 30_000, 'failed delivery');
    expect(failed).toMatchObject({ attempts: 3, error: 'no answer within 500 ms' });
    expect(h.received).toHaveLength(3);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(s.stderr()).toMatch(/webhook http:\/\/127\.0\.0\.1:\d+\/ for run \S+ failed after 3 attempts: no answer within 500 ms/);
    expect((await deliveries(other.runId)).deliveries).toEqual([]);
  });

  it('refuses a non-http webhook URL and answers 404 for the notifications of an unknown run', async () => {
    await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(cells()), webhookUrl: 'javascript:alert(1)' } }), 400, 'invalid', 'body.webhookUrl');
    await expectError(await s.api('/api/v1/runs/r-20260101t000000-abcdef/notifications'), 404, 'not-found');
    await expectError(await s.api('/api/v1/runs/..%2Fx/notifications'), 400, 'invalid', 'path.id');
  });
});

describe('missed fires across a restart (waits for a minute boundary, up to ~60 s)', () => {
  it('runs a runOnce fire missed while the server was down once on start-up, skips a skip one, and notifies the schedule webhook', async () => {
    const dir = tempWorkDir('cg-api-missed-');
    const h = await startHookServer(() => 200);
    try {
      const s1 = await startServerProcess(dir, { token: TOKEN });
      const v = await promote(s1, 'tick');
      const create = (id: string, missedRunPolicy: string, webhookUrl?: string) =>
        s1.api('/api/v1/schedules', {
          method: 'POST',
          json: { id, workflow: 'tick', version: v.version.version, cron: '* * * * *', missedRunPolicy, params: { n: 3 }, ...(webhookUrl ? { webhookUrl } : {}) }
        });
      await json(await create('catchup', 'runOnce', `${h.url}/catchup`), ScheduleView, 201);
      await json(await create('dropped', 'skip'), ScheduleView, 201);
      s1.child.kill('SIGTERM');
      expect(await s1.exited).toBe(0);
      const stoppedAt = Date.now();

      // Let the next minute boundary pass while no server is running.
      const boundary = Math.ceil((stoppedAt + 1) / 60_000) * 60_000;
      await new Promise((r) => setTimeout(r, boundary - Date.now() + 1500));

      const s2 = await startServerProcess(dir, { token: TOKEN });
      const line = await waitFor(async () => /schedule catchup: started run (\S+) for (\S+) \(missed while the server was down/.exec(s2.stderr()) ?? undefined, 10_000, 'missed fire log');
      const [, runId, fireIso] = line;
      const fire = Date.parse(fireIso);
      expect(fire).toBeGreaterThan(stoppedAt);
      expect(fire % 60_000).toBe(0);
      expect(runId).toBe(scheduledRunId('catchup', new Date(fire)));
      expect(s2.stderr()).toMatch(new RegExp(`schedule dropped: skipped the fire at ${fireIso.replace(/\./g, '\\.')}, missed while the server was down`));

      const run = await waitForRun(s2, runId);
      expect(run).toMatchObject({ status: 'succeeded', workflow: 'tick', version: v.version.version, params: { n: 3 } });
      const runs = (await json(await s2.api('/api/v1/runs?limit=100'), ListRunsResponse)).runs.map((r) => r.id);
      expect(runs.filter((id) => id === runId)).toHaveLength(1);
      expect(runs).not.toContain(scheduledRunId('dropped', new Date(fire)));
      const views = (await json(await s2.api('/api/v1/schedules'), ListSchedulesResponse)).schedules;
      expect(views.find((x) => x.id === 'catchup')?.lastFiredAt).toBeDefined();
      expect(Date.parse(views.find((x) => x.id === 'dropped')?.lastFiredAt ?? '')).toBeGreaterThanOrEqual(fire);

      await waitFor(async () => (h.received.some((r) => r.path === '/catchup' && (r.body as { runId?: string }).runId === runId) ? true : undefined), 20_000, 'schedule webhook');
      expect(RunNotification.parse(h.received.find((r) => (r.body as { runId?: string }).runId === runId)?.body)).toMatchObject({
        runId,
        scheduleId: 'catchup',
        status: 'succeeded'
      });
      s2.child.kill('SIGTERM');
      expect(await s2.exited).toBe(0);
    } finally {
      await h.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});

describe('a fire whose server was killed between claim and record', () => {
  it('is fired on the next start, once, with its lateness recorded and a log line saying so', async () => {
    const dir = tempWorkDir('cg-api-lost-');
    try {
      const s1 = await startServerProcess(dir, { token: TOKEN });
      const v = await promote(s1, 'lost');
      // Yearly: it never fires by itself during the test.
      const body = { id: 'lost', workflow: 'lost', version: v.version.version, cron: '0 3 1 1 *', params: { n: 4 } };
      await json(await s1.api('/api/v1/schedules', { method: 'POST', json: body }), ScheduleView, 201);
      s1.child.kill('SIGKILL');
      await s1.exited;
      // What the killed process left: the fire instant claimed, its run never recorded.
      const fireTime = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
      const runId = scheduledRunId('lost', fireTime);
      const db = new Database(path.join(dir, '.cellgraph', 'state.db'), { fileMustExist: true });
      db.prepare('INSERT INTO schedule_fires (schedule_id, fire_time, owner, claimed_at, late_ms, run_id) VALUES (?, ?, ?, ?, ?, ?)').run(
        'lost',
        fireTime.toISOString(),
        'killed-server',
        new Date().toISOString(),
        0,
        runId
      );
      db.close();

      const s2 = await startServerProcess(dir, { token: TOKEN });
      const recovering = `schedule lost: recovering the fire at ${fireTime.toISOString()}: claimed by killed-server`;
      await waitFor(async () => (s2.stderr().includes(recovering) ? true : undefined), 10_000, 'recovery log line');
      const run = await waitForRun(s2, runId);
      expect(run).toMatchObject({ status: 'succeeded', params: { n: 4 }, options: { scheduledFor: fireTime.toISOString() } });
      expect(run.options?.firedLateMs).toBeGreaterThan(0);
      const runs = (await json(await s2.api('/api/v1/runs?limit=100'), ListRunsResponse)).runs.map((r) => r.id);
      expect(runs.filter((id) => id === runId)).toHaveLength(1);
      s2.child.kill('SIGTERM');
      expect(await s2.exited).toBe(0);

      // Recovered once: a third start finds the run and leaves the claim alone.
      const s3 = await startServerProcess(dir, { token: TOKEN });
      expect(s3.stderr()).not.toContain('recovering the fire');
      s3.child.kill('SIGTERM');
      expect(await s3.exited).toBe(0);
      const after = new Database(path.join(dir, '.cellgraph', 'state.db'), { readonly: true, fileMustExist: true });
      const claim = after.prepare("SELECT owner, settled_at FROM schedule_fires WHERE schedule_id = 'lost'").get() as { owner: string; settled_at: string | null };
      after.close();
      expect(claim.owner).not.toBe('killed-server');
      expect(claim.settled_at).not.toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
