/**
 * Recovery of lost fires, on SQLite and PostgreSQL: a replica that claims a fire instant
 * and dies (SIGKILL) before recording the run leaves a claim with no run. Schedulers over
 * the real schedule repository and coordination take such claims over once they are past
 * the recovery grace and fire them again, exactly once, by the schedule's missedRunPolicy,
 * with their lateness recorded. The runs are real rows in the state database.
 */
import type { RunId, RunRecord, Schedule } from '@cellgraph/schema';
import { NotFoundError } from '../../errors';
import type { ServerStateStore } from '../../state/open-state-store';
import { scheduleRepository } from '../../state/schedule-store';
import { STATE_STORES, TestDatabase } from '../../state/__tests__/state-stores';
import { scheduledRunId } from '../run-ids';
import { RunPort, Scheduler, SchedulerEvent, SchedulerOptions } from '../scheduler';

const version = `sha256:${'a'.repeat(64)}`;
/** The recovery grace these tests run with (the server's is 30 s). */
const GRACE_MS = 1_500;

/** A RunPort recording each launch as a run row in the state database (as the server's does). */
class StateRuns implements RunPort {
  readonly launched: Array<{ runId: RunId; lateMs?: number }> = [];
  constructor(private readonly state: ServerStateStore) {}

  async launch(_schedule: Schedule, fireTime: Date, runId: RunId, lateMs = 0): Promise<void> {
    await this.record(runId, fireTime, lateMs);
    this.launched.push({ runId, lateMs });
  }

  /** Writes the run row, as launching it would. */
  async record(runId: RunId, fireTime: Date, lateMs: number): Promise<void> {
    const run: RunRecord = {
      id: runId,
      workflow: 'wf',
      version,
      notebookPath: '/nb.ipynb',
      params: {},
      status: 'queued',
      executor: 'local',
      createdAt: new Date().toISOString(),
      options: { scheduledFor: fireTime.toISOString(), firedLateMs: Math.round(lateMs) }
    };
    await this.state.createRun(run, []);
  }

  async runExists(runId: RunId): Promise<boolean> {
    return this.state.getRun(runId).then(
      () => true,
      (e: unknown) => (e instanceof NotFoundError ? false : Promise.reject(e))
    );
  }

  async activeRuns(): Promise<RunId[]> {
    return [];
  }

  async cancelRun(): Promise<void> {}
}

/** A fire instant `secondsAgo` before now, on a whole second (run ids have second precision). */
const secondsAgo = (s: number) => new Date((Math.floor(Date.now() / 1000) - s) * 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(STATE_STORES)('fire recovery on %s', (dialect, database) => {
  let db: TestDatabase;
  const opened: ServerStateStore[] = [];
  const schedulers: Scheduler[] = [];

  /** One replica: its own connection to the database, its own scheduler and owner id. */
  async function replica(owner: string, options: Partial<SchedulerOptions> = {}) {
    const state = await db.open();
    opened.push(state);
    const runs = new StateRuns(state);
    const events: SchedulerEvent[] = [];
    const scheduler = new Scheduler({
      repository: scheduleRepository(state, { coordination: state.coordination, owner }),
      runs,
      fireRecoveryGraceMs: GRACE_MS,
      onEvent: (e) => events.push(e),
      ...options
    });
    schedulers.push(scheduler);
    return { state, runs, events, scheduler };
  }

  /** What a replica killed between claim and record leaves: a claim of `fireTime`, no run. */
  async function lostFire(state: ServerStateStore, scheduleId: string, fireTime: Date, owner = 'killed-replica'): Promise<RunId> {
    const runId = scheduledRunId(scheduleId, fireTime);
    expect(await state.coordination.claimFire(scheduleId, fireTime, owner, 0, runId)).toBe(true);
    return runId;
  }

  beforeEach(async () => {
    db = await database('fire-recovery');
    const state = await db.open();
    await state.saveWorkflow({ version, name: 'wf', notebookPath: '/nb.ipynb' });
    await state.close();
  });
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop();
    for (const s of opened.splice(0)) await s.close();
    db.dispose();
  });

  /** A schedule that does not fire by itself during a test (03:00 on 1 January). */
  const yearly = (id: string, missedRunPolicy: 'skip' | 'runOnce' = 'skip') => ({ id, workflow: 'wf', version, cron: '0 3 1 1 *', missedRunPolicy });

  it('fires a claim without a run again once it is past the grace, not before, and once only', async () => {
    const a = await replica('replica-a');
    await a.scheduler.start();
    await a.scheduler.create(yearly('nightly'));
    const fireTime = secondsAgo(1);
    const runId = await lostFire(a.state, 'nightly', fireTime);

    await a.scheduler.refresh();
    await a.scheduler.idle();
    expect(a.runs.launched).toEqual([]);
    expect(await a.runs.runExists(runId)).toBe(false);

    await sleep(GRACE_MS + 100);
    await a.scheduler.refresh();
    await a.scheduler.idle();
    expect(a.runs.launched.map((l) => l.runId)).toEqual([runId]);
    // Its lateness is recorded with the run: at least the grace it waited.
    const run = await a.state.getRun(runId);
    expect(run.options).toMatchObject({ scheduledFor: fireTime.toISOString() });
    expect(run.options?.firedLateMs).toBeGreaterThanOrEqual(GRACE_MS);
    expect(a.events.map((e) => e.kind)).toEqual(['recovering', 'launched']);
    expect(a.events[0]).toMatchObject({ kind: 'recovering', scheduleId: 'nightly', fireTime, runId, claimedBy: 'killed-replica' });
    expect(a.events[1]).toMatchObject({ kind: 'launched', runId, missed: false });

    await sleep(GRACE_MS + 100);
    await a.scheduler.refresh();
    await a.scheduler.idle();
    expect(a.runs.launched).toHaveLength(1);
    expect(a.events).toHaveLength(2);
  });

  it('gives a claim to one of two replicas recovering at once: one run', async () => {
    const [a, b] = [await replica('replica-a'), await replica('replica-b')];
    await a.scheduler.start();
    await a.scheduler.create(yearly('nightly'));
    await b.scheduler.start();
    const runIds = [await lostFire(a.state, 'nightly', secondsAgo(2)), await lostFire(a.state, 'nightly', secondsAgo(1))];

    await sleep(GRACE_MS + 100);
    await Promise.all([a.scheduler.refresh(), b.scheduler.refresh()]);
    await Promise.all([a.scheduler.idle(), b.scheduler.idle()]);
    const launched = [...a.runs.launched, ...b.runs.launched].map((l) => l.runId).sort();
    expect(launched).toEqual([...runIds].sort());
    const recovering = [...a.events, ...b.events].filter((e) => e.kind === 'recovering');
    expect(recovering).toHaveLength(2);
    expect([...a.events, ...b.events].filter((e) => e.kind === 'failed')).toEqual([]);
  });

  it('leaves alone a claim whose run exists, and one whose run its claimant is still starting', async () => {
    const a = await replica('replica-a');
    await a.scheduler.start();
    await a.scheduler.create(yearly('nightly'));
    const recorded = await lostFire(a.state, 'nightly', secondsAgo(2), 'finished-replica');
    await a.runs.record(recorded, secondsAgo(2), 0);
    // A live lease on the run: its replica is preparing it (an image build can take minutes).
    const starting = await lostFire(a.state, 'nightly', secondsAgo(1), 'slow-replica');
    expect(await a.state.coordination.acquireLease(starting, 'slow-replica', 60_000)).toBe(1);

    await sleep(GRACE_MS + 100);
    await a.scheduler.refresh();
    await a.scheduler.idle();
    expect(a.runs.launched).toEqual([]);
    expect(a.events).toEqual([]);
  });

  it('applies the missedRunPolicy to a recovered fire beyond the misfire grace', async () => {
    const a = await replica('replica-a', { misfireGraceMs: 1_000 });
    await a.scheduler.start();
    await a.scheduler.create(yearly('skipper', 'skip'));
    await a.scheduler.create(yearly('catcher', 'runOnce'));
    await a.scheduler.create(yearly('collapser', 'runOnce'));
    const skipped = await lostFire(a.state, 'skipper', secondsAgo(30));
    const caught = await lostFire(a.state, 'catcher', secondsAgo(30));
    // Lost before a later fire (this year's) was due: runOnce means that one runs for both.
    const collapsed = await lostFire(a.state, 'collapser', secondsAgo(2 * 366 * 24 * 3600));

    await sleep(GRACE_MS + 100);
    await a.scheduler.refresh();
    await a.scheduler.idle();
    expect(a.runs.launched.map((l) => l.runId)).toEqual([caught]);
    expect(a.runs.launched[0].lateMs).toBeGreaterThanOrEqual(30_000);
    const outcomes = a.events.filter((e) => e.kind !== 'recovering');
    expect(outcomes).toHaveLength(3);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'skipped', scheduleId: 'skipper', reason: 'missed' }),
        expect.objectContaining({ kind: 'launched', scheduleId: 'catcher', runId: caught, missed: true }),
        expect.objectContaining({ kind: 'skipped', scheduleId: 'collapser', reason: 'superseded' })
      ])
    );
    expect(await a.runs.runExists(skipped)).toBe(false);
    expect(await a.runs.runExists(collapsed)).toBe(false);
    // The skips settled their claims: they are not recovered again.
    await sleep(GRACE_MS + 100);
    await a.scheduler.refresh();
    await a.scheduler.idle();
    expect(a.events.filter((e) => e.kind === 'recovering')).toHaveLength(3);
  });

  it('at boot, fires again the claims a previous life of the process left without runs', async () => {
    const before = await replica('replica-a');
    await before.scheduler.start();
    await before.scheduler.create(yearly('nightly'));
    const own = await lostFire(before.state, 'nightly', secondsAgo(2), 'replica-a');
    const other = await lostFire(before.state, 'nightly', secondsAgo(1), 'replica-b');
    await before.scheduler.stop();

    // Restarted under the same id, well within the grace.
    const after = await replica('replica-a', { fireRecoveryGraceMs: 60_000 });
    await after.scheduler.start();
    await after.scheduler.idle();
    // One process per SQLite database: every claim is its own. On PostgreSQL another
    // replica's claim waits for the grace (that replica may be alive and recording it).
    const expected = dialect === 'SQLite' ? [own, other] : [own];
    expect(after.runs.launched.map((l) => l.runId)).toEqual(expected);
  });
});
