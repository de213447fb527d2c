/**
 * Two real `cellgraph server` replicas on one real PostgreSQL (the run's private cluster):
 * an every-minute schedule fires once per minute whichever replica wins, runs submitted to
 * both survive one replica's SIGKILL (the other adopts them from their expired leases),
 * each task executes once (counted by the side effect each task appends to a file), and
 * events and live logs of a run are served by the replica that does not run it. Every
 * server is stopped by PID.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { ListRunsResponse, PromoteResponse, RunDetail, RunLogsResponse, ScheduleView, TaskElementsResponse } from '@cellgraph/schema';
import { testDatabaseUrl } from '@cellgraph/dev/services/postgres';
import { parseScheduledRunId, scheduledRunId } from '../../scheduler/run-ids';
import { TestCell, code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ServerProcess, readEvents, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(300_000);

const TOKEN = 'replica-token-0123456789abcdef';
const RUNS = 20;

/** a -> b; b prints, sleeps, then both append `<task>-<tag>` to marks.txt: one line per execution. */
const work: TestCell[] = [
  code('import * as fs from "fs";', { role: 'setup' }),
  code('const tag = "x";', { role: 'parameters' }),
  code('const x: number = 1;\nfs.appendFileSync("marks.txt", `a-${tag}\\n`);', { task: 'a' }),
  code('console.log("b working");\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500);\nconst y: number = x + 1;\nfs.appendFileSync("marks.txt", `b-${tag}\\n`);', { task: 'b' })
];
const tick: TestCell[] = [
  code('import * as fs from "fs";', { role: 'setup' }),
  // Not cached: every fire executes it, so ticks.txt counts executions.
  code('const t: number = Date.now();\nfs.appendFileSync("ticks.txt", "tick\\n");', { task: 'tick', cache: false })
];
const nbJson = (cells: TestCell[]) => JSON.parse(notebookText(cells)) as Record<string, unknown>;

async function json<T>(res: Response, schema: { parse(v: unknown): T }, status = 200): Promise<T> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  return schema.parse(JSON.parse(text));
}

function lines(dir: string, file: string): string[] {
  const p = path.join(dir, file);
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8').trim().split('\n').filter(Boolean) : [];
}

function counts(items: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return m;
}

afterAll(stopAllServers);

describe('two replicas on one PostgreSQL', () => {
  let dir: string;
  let url: string;
  let a: ServerProcess;
  let b: ServerProcess;
  const start = (id: string) =>
    startServerProcess(dir, { token: TOKEN, args: ['--concurrency', '6'], env: { CELLGRAPH_DATABASE_URL: url, CELLGRAPH_REPLICA_ID: id } });

  beforeAll(async () => {
    dir = tempWorkDir('cg-replicas-');
    url = await testDatabaseUrl('replicas_it');
    [a, b] = await Promise.all([start('replica-a'), start('replica-b')]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fire schedules once, adopt the runs of a SIGKILLed replica, execute every task once, and serve each other’s events and logs', async () => {
    // Each replica says where its state is and who it is, never the URL (it may carry a password).
    // stderr's boot lines follow stdout's `listening:`; the pipes race.
    await waitFor(async () => (a.stderr().includes('state: PostgreSQL (CELLGRAPH_DATABASE_URL), replica replica-a') ? true : undefined), 5000, 'the boot line');
    expect(a.stderr() + b.stderr()).not.toContain(url);

    // An every-minute schedule, created through one replica, fires on both (B picks it up by refresh).
    const promoted = await json(await a.api('/api/v1/workflows/promote', { method: 'POST', json: { notebook: nbJson(tick), notebookName: 'tick.ipynb' } }), PromoteResponse, 201);
    const schedule = await json(
      await a.api('/api/v1/schedules', { method: 'POST', json: { id: 'every-minute', workflow: 'tick', version: promoted.version.version, cron: '* * * * *', concurrencyPolicy: 'Allow' } }),
      ScheduleView,
      201
    );
    const firstFire = new Date(schedule.nextFires[0]);
    const scheduledRuns = async (s: ServerProcess) =>
      (await json(await s.api('/api/v1/runs?limit=1000'), ListRunsResponse)).runs.filter((r) => parseScheduledRunId(r.id)?.scheduleId === 'every-minute');
    // The first fire, with both replicas alive.
    await waitFor(async () => ((await scheduledRuns(b)).some((r) => r.status === 'succeeded') ? true : undefined), 90_000, 'the first scheduled run');

    // 20 runs, alternately on each replica.
    const submitted: { id: string; on: 'a' | 'b' }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = i % 2 === 0 ? a : b;
      const run = await json(await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(work), notebookName: 'work.ipynb', params: { tag: `r${i}` } } }), RunDetail, 201);
      submitted.push({ id: run.runId, on: i % 2 === 0 ? 'a' : 'b' });
    }
    const onA = submitted.filter((r) => r.on === 'a').map((r) => r.id);

    // A run on A, cancelled through B: the request reaches A through the database.
    const doomed = await json(await a.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(work), notebookName: 'work.ipynb', params: { tag: 'cancel' } } }), RunDetail, 201);
    const cancelled = await json(await b.api(`/api/v1/runs/${doomed.runId}/cancel`, { method: 'POST' }), RunDetail);
    expect(cancelled.status).toBe('cancelled');

    // Mid-run: one of A's runs has b running. B serves its live log and follows its events.
    const watched = await waitFor(
      async () => {
        for (const id of onA) {
          const r = await json(await b.api(`/api/v1/runs/${id}`), RunDetail);
          if (r.tasks[1].status === 'running') return id;
        }
        return undefined;
      },
      60_000,
      'a run of replica A with task b running'
    );
    const liveOnB = await waitFor(async () => {
      const logs = await json(await b.api(`/api/v1/runs/${watched}/logs?task=b`), RunLogsResponse);
      const text = logs.tasks[0]?.attempts.map((x) => x.text).join('') ?? '';
      return text.includes('b working') ? text : undefined;
    }, 10_000, 'the live log of a run on A, read from B');
    expect(liveOnB).toContain('b working');
    const eventsOnB = readEvents(await b.api(`/api/v1/runs/${watched}/events`), (e) => e.kind === 'run' && e.status === 'succeeded');

    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    const unfinishedOfA = [];
    for (const id of onA) if ((await json(await b.api(`/api/v1/runs/${id}`), RunDetail)).status !== 'succeeded') unfinishedOfA.push(id);
    expect(unfinishedOfA.length).toBeGreaterThan(0);

    // B adopts A's runs once their leases expire, and they progress again.
    await waitFor(async () => (b.stderr().includes('adopting') ? true : undefined), 30_000, 'adoption by replica B');
    const failoverMs = Date.now() - killedAt;
    process.stdout.write(`failover: SIGKILL -> adopted in ${failoverMs} ms\n`);
    expect(failoverMs).toBeLessThanOrEqual(15_000);

    for (const { id } of submitted) {
      const done = await waitFor(async () => {
        const r = await json(await b.api(`/api/v1/runs/${id}`), RunDetail);
        return r.status === 'running' || r.status === 'queued' ? undefined : r;
      }, 120_000, `run ${id}`);
      expect(done.status).toBe('succeeded');
    }
    // Each task executed exactly once, adopted runs included.
    const marks = counts(lines(dir, 'marks.txt').filter((l) => !l.endsWith('-cancel')));
    const expected = Array.from({ length: RUNS }, (_, i) => [`a-r${i}`, `b-r${i}`]).flat();
    expect([...marks.keys()].sort()).toEqual([...expected].sort());
    expect([...marks.values()].every((n) => n === 1)).toBe(true);
    // The stream opened on B before the kill saw the whole history, in order, to the end.
    const seen = (await eventsOnB).map((e) => e.event.seq);
    expect(seen).toEqual(seen.map((_, i) => i));

    // The next fire happens on the survivor; every fire instant made exactly one run.
    const secondFire = new Date(firstFire.getTime() + 60_000);
    await waitFor(
      async () => ((await scheduledRuns(b)).some((r) => parseScheduledRunId(r.id)?.fireTime.getTime() === secondFire.getTime() && r.status === 'succeeded') ? true : undefined),
      120_000,
      'the second scheduled run'
    );
    const late = await json(await b.api(`/api/v1/runs/${scheduledRunId('every-minute', secondFire)}`), RunDetail);
    expect(late.options).toMatchObject({ scheduledFor: secondFire.toISOString(), firedLateMs: expect.any(Number) });
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);

    // Stopped, so nothing moves: every fire instant claimed once, made one run, ran its task once.
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      const runs = (await db.query("SELECT id, status FROM runs WHERE id LIKE 's-every-minute-%' ORDER BY id")).rows as { id: string; status: string }[];
      const claims = (await db.query("SELECT fire_time FROM schedule_fires WHERE schedule_id = 'every-minute' ORDER BY fire_time")).rows as { fire_time: string }[];
      const fired = runs.map((r) => parseScheduledRunId(r.id)?.fireTime.toISOString());
      expect(fired).toEqual(expect.arrayContaining([firstFire.toISOString(), secondFire.toISOString()]));
      expect(claims.map((c) => c.fire_time)).toEqual(fired);
      expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
      expect(lines(dir, 'ticks.txt')).toHaveLength(runs.length);
    } finally {
      await db.end();
    }
  });
});

/** A foreach task whose elements each print their index, then sleep: long enough to be read live. */
const elements: TestCell[] = [
  code('const ids = [0, 1, 2];', { task: 'make' }),
  code('console.log(`element ${id} working`);\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4000);\nconst done: number = id;', {
    task: 'work',
    foreach: 'ids',
    as: 'id'
  })
];

describe('live element logs between replicas', () => {
  let dir: string;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    dir = tempWorkDir('cg-replica-elements-');
    const url = await testDatabaseUrl('replica_elements_it');
    const start = (id: string) => startServerProcess(dir, { token: TOKEN, env: { CELLGRAPH_DATABASE_URL: url, CELLGRAPH_REPLICA_ID: id } });
    [a, b] = await Promise.all([start('replica-a'), start('replica-b')]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("serve a running element's live log, that element's only, from the replica that does not run it", async () => {
    const run = await json(await a.api('/api/v1/runs', { method: 'POST', json: { notebook: nbJson(elements), notebookName: 'elements.ipynb' } }), RunDetail, 201);
    const id = run.runId;
    // While the elements run on A, B lists them and reads element 1's output as it is written.
    const seen: string[] = [];
    const live = await waitFor(
      async () => {
        const res = await b.api(`/api/v1/runs/${id}/logs?task=work&element=1`);
        if (res.status === 404) {
          if (seen.at(-1) !== '404') seen.push('404');
          return undefined; // the element records are not filed yet
        }
        const logs = await json(res, RunLogsResponse);
        const brief = JSON.stringify({ run: logs.status, element: logs.tasks[0]?.status, attempts: logs.tasks[0]?.attempts });
        if (seen.at(-1) !== brief) seen.push(brief);
        const attempt = logs.tasks[0]?.attempts[0];
        return attempt?.live === true && attempt.text.includes('element 1 working') ? { attempt, status: logs.status, element: logs.tasks[0].status } : undefined;
      },
      30_000,
      'the live log of element 1 of a run on A, read from B'
    ).catch((err: Error) => {
      throw new Error(`${err.message}; answers, in order: ${seen.join(' ')}`);
    });
    expect({ run: live.status, element: live.element }).toEqual({ run: 'running', element: 'running' });
    expect(live.attempt.text).not.toMatch(/element [02] working/);
    const listed = await json(await b.api(`/api/v1/runs/${id}/tasks/work/elements`), TaskElementsResponse);
    expect(listed.elements.find((e) => e.index === 1)?.state).toBe('running');

    const done = await waitFor(async () => {
      const r = await json(await b.api(`/api/v1/runs/${id}`), RunDetail);
      return r.status === 'running' || r.status === 'queued' ? undefined : r;
    }, 60_000, `run ${id}`);
    expect(done.status).toBe('succeeded');
    // Once filed, B reads the element's log from the store: the same text, no longer live.
    const filed = await json(await b.api(`/api/v1/runs/${id}/logs?task=work&element=1`), RunLogsResponse);
    expect(filed.tasks[0].attempts.map((x) => [x.live, x.text.match(/element \d working/g)])).toEqual([[false, ['element 1 working']]]);
  });
});
