/**
 * Schedules end to end inside one process: the Scheduler (on a fake clock, so fires are
 * exact and instant) over the real SQLite repository, firing through the server's RunPort
 * into the real run service, engine and local executor (task child processes), with the
 * real webhook notifier. Covers run ids from fire times, params, double fires, Forbid,
 * Replace, missed fires on restart (runOnce vs skip) and the server-side checks of
 * ScheduleService. Requires `tsc -b` first (tasks run the built task entry).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunDetail, RunNotification, ScheduleView } from '@cellgraph/schema';
import { CompilePool } from '../../compiler/pool/compile-pool';
import { Engine } from '../../engine/engine';
import { LocalExecutor } from '../../executors/local/local-executor';
import { RunNotifier } from '../../notify';
import { HookServer, startHookServer } from '@cellgraph/dev/test-support/hook-server';
import { Scheduler, SchedulerEvent, scheduledRunId } from '../../scheduler';
import { scheduleRepository } from '../../state/schedule-store';
import { SqliteStateStore } from '../../state/sqlite-state-store';
import { FilesystemStore } from '../../stores';
import { FakeClock } from '@cellgraph/dev/test-support/fake-clock';
import { TestCell, code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { IrCache } from '../ir-cache';
import { RunService } from '../run-service';
import { ScheduleService } from '../schedule-service';
import { ScheduledRuns } from '../scheduled-runs';
import { WorkflowService } from '../workflow-service';
import { tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(120_000);

/** `a` doubles `n` after sleeping `sleepMs`; appends to marks.txt so a test can count executions. */
const cells: TestCell[] = [
  code('import * as fs from "fs";', { role: 'setup' }),
  code('const n = 1;\nconst sleepMs = 0;', { role: 'parameters' }),
  code('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, sleepMs);\nconst doubled: number = n * 2;\nfs.appendFileSync("marks.txt", `${doubled}\\n`);', { task: 'a' }),
  code('const text: string = `doubled=${doubled}`;\nconsole.log(text);', { task: 'b' })
];

/** One server's worth of services over a directory, with the scheduler on `clock`. */
function services(dir: string, clock: FakeClock) {
  const home = path.join(dir, '.cellgraph');
  const store = new FilesystemStore(home);
  const state = SqliteStateStore.open(path.join(home, 'state.db'));
  const engine = new Engine({ store, storeConfig: { kind: 'filesystem', root: store.root }, state, executor: new LocalExecutor({ store }), concurrency: 2 });
  const irs = new IrCache(store);
  const runs = new RunService(engine, store, state, irs);
  const compiles = new CompilePool();
  const workflows = new WorkflowService(store, state, irs, runs, dir, compiles);
  const notifier = new RunNotifier({ store: state, backoffMs: 20, timeoutMs: 2000, log: () => undefined });
  engine.onEvent(notifier.listener);
  const events: SchedulerEvent[] = [];
  const scheduler = new Scheduler({ repository: scheduleRepository(state), runs: new ScheduledRuns(state, workflows, runs), clock, onEvent: (e) => events.push(e) });
  const schedules = new ScheduleService(scheduler, state, irs, notifier.guard);
  const close = async () => {
    await scheduler.stop();
    await runs.drain(0);
    await notifier.stop(0);
    await compiles.close();
    await state.close();
  };
  return { state, runs, workflows, notifier, scheduler, schedules, events, close };
}

type Services = ReturnType<typeof services>;

async function finished(s: Services, runId: string): Promise<RunDetail> {
  return waitFor(async () => {
    const r = await s.runs.detail(runId).catch(() => undefined);
    return r !== undefined && r.status !== 'queued' && r.status !== 'running' ? r : undefined;
  }, 60_000, `run ${runId}`);
}

const marks = (dir: string) => (fs.existsSync(path.join(dir, 'marks.txt')) ? fs.readFileSync(path.join(dir, 'marks.txt'), 'utf8').trim().split('\n') : []);
const kinds = (events: SchedulerEvent[]) => events.map((e) => (e.kind === 'skipped' ? `skipped:${e.reason}` : e.kind));

describe('scheduled runs through the real run service', () => {
  let dir: string;
  let clock: FakeClock;
  let s: Services;
  let version: string;
  let hook: HookServer;

  beforeAll(async () => {
    dir = tempWorkDir('cg-sched-int-');
    hook = await startHookServer(() => 200);
  });
  afterAll(async () => {
    await hook.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    fs.rmSync(path.join(dir, 'marks.txt'), { force: true });
    clock = new FakeClock('2026-05-04T10:01:30.000Z');
    s = services(dir, clock);
    await s.scheduler.start();
    version = (await s.workflows.promote({ notebook: notebookText(cells), notebookName: 'nightly.ipynb' })).version.version;
  });
  afterEach(async () => {
    await s.close();
    fs.rmSync(path.join(dir, '.cellgraph'), { recursive: true, force: true });
  });

  it('fires a run of the version with the schedule params under the derived run id; a second fire of that second is a no-op', async () => {
    const view = await s.schedules.create({
      id: 'every5',
      workflow: 'nightly',
      version,
      cron: '*/5 * * * *',
      timezone: 'UTC',
      params: { n: 21 },
      concurrencyPolicy: 'Allow',
      missedRunPolicy: 'skip',
      paused: false,
      webhookUrl: `${hook.url}/every5`
    });
    expect(ScheduleView.parse(view).nextFires.slice(0, 2)).toEqual(['2026-05-04T10:05:00.000Z', '2026-05-04T10:10:00.000Z']);

    await clock.advanceTo('2026-05-04T10:05:00.000Z');
    await s.scheduler.idle();
    const runId = scheduledRunId('every5', new Date('2026-05-04T10:05:00Z'));
    expect(runId).toBe('s-every5-20260504t100500z');
    const run = await finished(s, runId);
    expect(run).toMatchObject({ status: 'succeeded', workflow: 'nightly', version, params: { n: 21, sleepMs: 0 } });
    expect(marks(dir)).toEqual(['42']);
    expect((await s.schedules.get('every5')).lastFiredAt).toBe('2026-05-04T10:05:00.000Z');

    // The same second again (a timer firing twice, a replay): nothing new runs.
    expect(await s.scheduler.fire('every5', new Date('2026-05-04T10:05:00.400Z'))).toMatchObject({ kind: 'duplicate', runId });
    // A second scheduler on the same database (another process) finds the run too.
    const other = new Scheduler({ repository: scheduleRepository(s.state), runs: new ScheduledRuns(s.state, s.workflows, s.runs), clock });
    expect(await other.fire('every5', new Date('2026-05-04T10:05:00Z'))).toMatchObject({ kind: 'duplicate', runId });
    // And the port itself: launching an existing id does nothing.
    await new ScheduledRuns(s.state, s.workflows, s.runs).launch((await s.scheduler.get('every5')) as ScheduleView, new Date(), runId);
    expect((await s.runs.list({})).map((r) => r.id)).toEqual([runId]);
    expect(marks(dir)).toEqual(['42']);
    expect(kinds(s.events)).toEqual(['launched', 'duplicate']);

    // The schedule's webhook heard about it, with the schedule named.
    await s.notifier.idle();
    const note = RunNotification.parse(hook.received.find((r) => r.path === '/every5')?.body);
    expect(note).toMatchObject({ runId, scheduleId: 'every5', status: 'succeeded', workflow: 'nightly', params: { n: 21 } });
    expect(await s.state.listDeliveries(runId)).toEqual([expect.objectContaining({ source: 'schedule', status: 'delivered', attempts: 1 })]);
  });

  it('Forbid skips a fire while the last run is still running; Replace cancels it and starts the new one', async () => {
    await s.schedules.create({ id: 'slow', workflow: 'nightly', version, cron: '* * * * *', params: { sleepMs: 20_000 } });
    await clock.advanceTo('2026-05-04T10:02:00.000Z');
    await s.scheduler.idle();
    const first = scheduledRunId('slow', new Date('2026-05-04T10:02:00Z'));
    await waitFor(async () => ((await s.runs.detail(first)).tasks[0].status === 'running' ? true : undefined), 30_000, 'first run running');

    await clock.advanceTo('2026-05-04T10:03:00.000Z');
    await s.scheduler.idle();
    expect(s.events.at(-1)).toMatchObject({ kind: 'skipped', reason: 'forbid', activeRuns: [first] });
    await expect(s.runs.detail(scheduledRunId('slow', new Date('2026-05-04T10:03:00Z')))).rejects.toThrow(/not found/);

    await s.schedules.update('slow', { concurrencyPolicy: 'Replace', params: { sleepMs: 0 } });
    await clock.advanceTo('2026-05-04T10:04:00.000Z');
    await s.scheduler.idle();
    const third = scheduledRunId('slow', new Date('2026-05-04T10:04:00Z'));
    expect(s.events.at(-1)).toMatchObject({ kind: 'launched', runId: third, replaced: [first] });
    expect((await finished(s, first)).status).toBe('cancelled');
    expect(await finished(s, third)).toMatchObject({ status: 'succeeded', params: { sleepMs: 0 } });
  });

  it('after a restart, runOnce starts exactly one run for the latest missed fire and skip starts none', async () => {
    await s.schedules.create({ id: 'catchup', workflow: 'nightly', version, cron: '0 * * * *', missedRunPolicy: 'runOnce', params: { n: 5 } });
    await s.schedules.create({ id: 'dropped', workflow: 'nightly', version, cron: '0 * * * *', missedRunPolicy: 'skip' });
    await s.close();

    // Down from 10:01:30 to 13:20: the 11:00, 12:00 and 13:00 fires were missed.
    const later = new FakeClock('2026-05-04T13:20:00.000Z');
    s = services(dir, later);
    await s.scheduler.start();
    await s.scheduler.idle();
    const replayed = scheduledRunId('catchup', new Date('2026-05-04T13:00:00Z'));
    expect(s.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'launched', scheduleId: 'catchup', runId: replayed, missed: true }),
        expect.objectContaining({ kind: 'skipped', scheduleId: 'dropped', reason: 'missed' })
      ])
    );
    expect(s.events).toHaveLength(2);
    expect(await finished(s, replayed)).toMatchObject({ status: 'succeeded', params: { n: 5 } });
    expect((await s.runs.list({})).map((r) => r.id)).toEqual([replayed]);
    expect((await s.schedules.get('dropped')).lastFiredAt).toBe('2026-05-04T13:00:00.000Z');

    // A second restart replays nothing: the fire is handled.
    await s.close();
    s = services(dir, new FakeClock('2026-05-04T13:30:00.000Z'));
    await s.scheduler.start();
    await s.scheduler.idle();
    expect(s.events).toEqual([]);
  });

  it("honours the schedule's cache policy: reuse serves an unchanged fire from the cache, recompute runs every task; the runs list says so", async () => {
    const created = await s.schedules.create({ id: 'nightly', workflow: 'nightly', version, cron: '*/5 * * * *', name: 'nightly report' });
    expect(created).toMatchObject({ name: 'nightly report' });
    expect(created.cachePolicy).toBeUndefined();
    const fire = async (at: string) => {
      await clock.advanceTo(at);
      await s.scheduler.idle();
      return finished(s, scheduledRunId('nightly', new Date(at)));
    };
    const first = await fire('2026-05-04T10:05:00.000Z');
    expect(first.tasks.map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
    const reused = await fire('2026-05-04T10:10:00.000Z');
    expect(reused.tasks.map((t) => t.status)).toEqual(['cached', 'cached']);
    expect(reused).toMatchObject({ trigger: 'schedule', scheduleId: 'nightly' });
    expect(marks(dir)).toEqual(['2']);

    const updated = await s.schedules.update('nightly', { cachePolicy: 'recompute', name: null });
    expect(updated.cachePolicy).toBe('recompute');
    expect(updated.name).toBeUndefined();
    expect((await s.schedules.get('nightly')).cachePolicy).toBe('recompute');
    const recomputed = await fire('2026-05-04T10:15:00.000Z');
    expect(recomputed.tasks.map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
    expect(recomputed.options).toMatchObject({ noCache: true });
    expect(marks(dir)).toEqual(['2', '2']);

    // What the runs table shows: trigger, cached count, duration; the timeline's spans per task.
    const items = await s.runs.list({ workflow: 'nightly' });
    expect(items.map((r) => [r.id, r.trigger, r.cached, r.total])).toEqual([
      [recomputed.runId, 'schedule', 0, 2],
      [reused.runId, 'schedule', 2, 2],
      [first.runId, 'schedule', 0, 2]
    ]);
    expect(items.every((r) => typeof r.durationMs === 'number')).toBe(true);
    expect(await s.runs.list({ workflow: 'other' })).toEqual([]);
    const a = recomputed.taskDetails.find((t) => t.name === 'a');
    expect(a?.spans?.map((x) => x.state)).toEqual(['queued', 'running']);
    expect(a?.spans?.every((x) => x.end !== undefined && Date.parse(x.end) >= Date.parse(x.start))).toBe(true);
    expect(reused.taskDetails.find((t) => t.name === 'a')?.spans?.map((x) => x.state)).toContain('cached');
  });

  it('checks what only the server knows: the version exists, params fit it; names body fields; 409 for a taken id', async () => {
    const base = { workflow: 'nightly', version, cron: '0 3 * * *' };
    await expect(s.schedules.create({ ...base, version: `sha256:${'f'.repeat(64)}` })).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(s.schedules.create({ ...base, workflow: 'other' })).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(s.schedules.create({ ...base, params: { n: 'two' } })).rejects.toMatchObject({ name: 'ValidationError', field: 'body.params.n' });
    await expect(s.schedules.create({ ...base, params: { colour: 'red' } })).rejects.toMatchObject({ name: 'ValidationError', field: 'body.params.colour' });
    await expect(s.schedules.create({ ...base, cron: '0 0 30 2 *' })).rejects.toMatchObject({ name: 'ValidationError', field: 'body.cron', message: expect.stringMatching(/^body\.cron: .*never fires/) });
    await expect(s.schedules.create({ ...base, timezone: 'Mars/Olympus' })).rejects.toMatchObject({ name: 'ValidationError', field: 'body.timezone' });
    await s.schedules.create({ ...base, id: 'taken' });
    await expect(s.schedules.create({ ...base, id: 'taken' })).rejects.toMatchObject({ name: 'ConflictError', kind: 'conflict', field: 'body.id' });
    await expect(s.schedules.update('taken', { params: { n: false } })).rejects.toMatchObject({ field: 'body.params.n' });
    await expect(s.schedules.update('nope', { paused: true })).rejects.toMatchObject({ name: 'NotFoundError' });
    expect((await s.schedules.list()).map((v) => v.id)).toEqual(['taken']);
  });
});

describe('error mapping of the scheduler', () => {
  it("answers the scheduler's ConflictError with 409 naming its field", async () => {
    const { ScheduleConflictError } = await import('../../scheduler');
    const { toApiError } = await import('../http-errors');
    expect(toApiError(new ScheduleConflictError('id: a schedule "x" already exists'))).toEqual({
      status: 409,
      body: { error: { code: 'conflict', message: 'id: a schedule "x" already exists', field: 'id' } }
    });
  });
});
