/** Run leases, schedule fire claims and shared live logs, on SQLite and PostgreSQL alike. */
import type { RunRecord } from '@cellgraph/schema';
import type { ServerStateStore } from '../open-state-store';
import { PostgresStateStore } from '../postgres-state-store';
import { testDatabaseUrl } from '@cellgraph/dev/services/postgres';
import { STATE_STORES, TestDatabase } from './state-stores';
import { LeaseLostError } from '../../errors';

const version = `sha256:${'a'.repeat(64)}`;

function run(id: string, status: RunRecord['status'] = 'running'): RunRecord {
  return { id, workflow: 'wf', version, notebookPath: '/nb.ipynb', params: {}, status, executor: 'local', createdAt: `2026-11-24T10:00:0${id.slice(-1)}.000Z` };
}

describe.each(STATE_STORES)('coordination on %s', (_dialect, database) => {
  let db: TestDatabase;
  let state: ServerStateStore;
  beforeEach(async () => {
    db = await database('coordination');
    state = await db.open();
    await state.saveWorkflow({ version, name: 'wf', notebookPath: '/nb.ipynb' });
  });
  afterEach(async () => {
    await state.close();
    db.dispose();
  });

  it('leases a run to one owner until the lease expires; renewing keeps it; the epoch counts changes of hands', async () => {
    const c = state.coordination;
    expect(await c.acquireLease('r-1', 'a', 60_000)).toBe(1);
    expect(await c.acquireLease('r-1', 'b', 60_000)).toBeUndefined();
    expect(await c.acquireLease('r-1', 'a', 60_000)).toBe(1);
    expect(await c.renewLeases('a', 60_000, [{ runId: 'r-1', epoch: 1 }])).toEqual(['r-1']);
    expect(await c.renewLeases('b', 60_000, [{ runId: 'r-1', epoch: 1 }])).toEqual([]);
    expect(await c.acquireLease('r-2', 'a', -1)).toBe(1); // born expired
    expect(await c.acquireLease('r-2', 'b', 60_000)).toBe(2);
    // a lost r-2: renewing it says so (and extends nothing of b's).
    expect(await c.renewLeases('a', 60_000, [{ runId: 'r-1', epoch: 1 }, { runId: 'r-2', epoch: 1 }])).toEqual(['r-1']);
    await c.releaseLease('r-1', 'b'); // not b's: kept
    expect(await c.acquireLease('r-1', 'b', 60_000)).toBeUndefined();
    await c.releaseLease('r-1', 'a');
    expect(await c.acquireLease('r-1', 'b', 60_000)).toBe(1);
  });

  it('fences a run’s state writes by its lease: a stale owner’s write changes nothing and throws LeaseLostError', async () => {
    const c = state.coordination;
    await state.createRun(run('r-1'), [{ runId: 'r-1', task: 't', status: 'running', attempts: 1, cached: false, outputs: [], metrics: {} }]);
    const epochA = await c.acquireLease('r-1', 'a', -1); // a stalls: its lease expires
    expect(epochA).toBe(1);
    const a = { owner: 'a', epoch: 1 };
    await state.updateTaskRun('r-1', 't', { attempts: 1 }, a); // still a's until someone takes it
    const [taken] = await c.claimUnownedRuns('b', 60_000);
    expect(taken).toEqual({ runId: 'r-1', epoch: 2 });
    const b = { owner: 'b', epoch: 2 };
    await state.updateTaskRun('r-1', 't', { status: 'succeeded', attempts: 2 }, b);
    await state.updateRun('r-1', { status: 'succeeded' }, b);
    await state.appendEvent({ runId: 'r-1', kind: 'run', status: 'succeeded', time: new Date().toISOString() }, b);

    // a comes back: every write it tries is dropped.
    await expect(state.updateTaskRun('r-1', 't', { status: 'failed', attempts: 1 }, a)).rejects.toThrow(LeaseLostError);
    await expect(state.updateRun('r-1', { status: 'cancelled', error: 'stale' }, a)).rejects.toThrow(LeaseLostError);
    await expect(state.updateRun('r-1', {}, a)).rejects.toThrow(LeaseLostError);
    await expect(state.appendEvent({ runId: 'r-1', kind: 'run', status: 'cancelled', time: new Date().toISOString() }, a)).rejects.toThrow(LeaseLostError);
    await expect(state.assertFence('r-1', a)).rejects.toThrow(/no longer leased to a \(epoch 1\)/);
    await state.assertFence('r-1', b);
    // The same owner at an older epoch is stale too (a replica that adopted its own run back after losing it).
    await state.createRun(run('r-2'), []);
    expect(await c.acquireLease('r-2', 'a', -1)).toBe(1);
    expect(await c.claimUnownedRuns('a', 60_000)).toEqual([{ runId: 'r-2', epoch: 2 }]);
    await expect(state.updateRun('r-2', { error: 'old life' }, a)).rejects.toThrow(LeaseLostError);
    await state.updateRun('r-2', { error: 'new life' }, { owner: 'a', epoch: 2 });
    expect((await state.getRun('r-2')).error).toBe('new life');

    expect((await state.getRun('r-1')).status).toBe('succeeded');
    expect((await state.getRun('r-1')).error).toBeUndefined();
    expect((await state.getTaskRuns('r-1'))[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await state.listEvents('r-1')).map((e) => e.status)).toEqual(['succeeded']);
    // Unfenced writes (a single process, the CLI) are unaffected.
    await state.updateRun('r-1', { error: 'unfenced' });
    expect((await state.getRun('r-1')).error).toBe('unfenced');
  });

  it('claims unfinished runs with no live lease, oldest first, and never a finished one or one held', async () => {
    const c = state.coordination;
    await state.createRun(run('r-1'), []);
    await state.createRun(run('r-2', 'queued'), []);
    await state.createRun(run('r-3', 'succeeded'), []);
    await state.createRun(run('r-4'), []);
    await state.createRun(run('r-5'), []);
    await c.acquireLease('r-4', 'alive', 60_000);
    await c.acquireLease('r-5', 'dead', -1);
    const ids = (claims: { runId: string }[]) => claims.map((x) => x.runId);
    expect(await c.claimUnownedRuns('b', 60_000)).toEqual([
      { runId: 'r-1', epoch: 1 },
      { runId: 'r-2', epoch: 1 },
      { runId: 'r-5', epoch: 2 }
    ]);
    expect(await c.claimUnownedRuns('c', 60_000)).toEqual([]);
    // At boot a replica restarted under its own id takes its runs back (a new life: a new epoch); 'any' takes everything unfinished.
    expect(await c.claimUnownedRuns('alive', 60_000, { ownToo: true })).toEqual([{ runId: 'r-4', epoch: 2 }]);
    expect(ids(await c.claimUnownedRuns('solo', 60_000, { takeOver: 'any' }))).toEqual(['r-1', 'r-2', 'r-4', 'r-5']);
  });

  it('gives each schedule fire instant to exactly one claimant', async () => {
    const c = state.coordination;
    const at = new Date('2026-11-24T10:00:00Z');
    const claims = await Promise.all(['a', 'b', 'c', 'd'].map((owner) => c.claimFire('nightly', at, owner, 5, 'r-1')));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await c.claimFire('nightly', new Date('2026-11-24T10:01:00Z'), 'b', 0, 'r-2')).toBe(true);
    expect(await c.claimFire('other', at, 'b', 0, 'r-3')).toBe(true);
  });

  it('hands out a stalled fire claim (past the grace, no run, nobody on its run) once, and settles one whose run exists', async () => {
    const c = state.coordination;
    const at = (m: number) => new Date(Date.UTC(2026, 10, 24, 10, m));
    await c.claimFire('s', at(1), 'dead', 0, 'r-1'); // stalled
    await c.claimFire('s', at(2), 'dead', 0, 'r-2'); // its run exists
    await c.claimFire('s', at(3), 'slow', 0, 'r-3'); // its claimant leases the run: still starting it
    await c.claimFire('s', at(4), 'dead', 0, 'r-4'); // skipped by its claimant
    await state.createRun(run('r-2'), []);
    await c.acquireLease('r-3', 'slow', 60_000);
    await c.settleFire('s', at(4));
    expect(await c.takeStalledFires('b', 60_000)).toEqual([]); // not past the grace yet
    await new Promise((r) => setTimeout(r, 600));
    const taken = await c.takeStalledFires('b', 500);
    expect(taken).toEqual([{ scheduleId: 's', fireTime: at(1), runId: 'r-1', claimedBy: 'dead', claimedAt: expect.any(Date) }]);
    // Taken over: the claim is b's, claimed now, so nobody else takes it within the grace.
    expect(await c.takeStalledFires('c', 500)).toEqual([]);
    // At boot a replica restarted under its own id takes its claims back; 'any' takes every claim without a run.
    expect((await c.takeStalledFires('b', 60_000, { ownToo: true })).map((f) => f.runId)).toEqual(['r-1']);
    expect((await c.takeStalledFires('solo', 60_000, { takeOver: 'any' })).map((f) => f.runId)).toEqual(['r-1', 'r-3']);
  });

  it('shares the output of running attempts until the run is forgotten', async () => {
    const c = state.coordination;
    await c.putAttemptLog('r-1', 'a', 1, 'hello\n');
    await c.putAttemptLog('r-1', 'a', 1, 'hello\nworld\n');
    expect(await c.getAttemptLog('r-1', 'a', 1)).toBe('hello\nworld\n');
    expect(await c.getAttemptLog('r-1', 'a', 2)).toBeUndefined();
    await c.forgetRun('r-1');
    expect(await c.getAttemptLog('r-1', 'a', 1)).toBeUndefined();
  });

  it('hands a cancel request to the replica holding the run, once', async () => {
    const c = state.coordination;
    await c.acquireLease('r-1', 'a', 60_000);
    await c.acquireLease('r-2', 'b', 60_000);
    await c.requestCancel('r-1');
    await c.requestCancel('r-1');
    await c.requestCancel('r-3'); // nobody holds it (yet): kept for whoever adopts it
    expect(await c.takeCancelRequests('b')).toEqual([]);
    expect(await c.takeCancelRequests('a')).toEqual(['r-1']);
    expect(await c.takeCancelRequests('a')).toEqual([]);
    await c.acquireLease('r-3', 'b', 60_000);
    expect(await c.takeCancelRequests('b')).toEqual(['r-3']);
  });
});

describe('PostgreSQL replicas', () => {
  it('migrate once when they start together, and claim disjoint sets of orphaned runs', async () => {
    const url = await testDatabaseUrl('replicas');
    const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStateStore.open(url)));
    try {
      await stores[0].saveWorkflow({ version, name: 'wf', notebookPath: '/nb.ipynb' });
      for (let i = 0; i < 40; i++) await stores[0].createRun({ ...run(`r-${i}`), createdAt: new Date(Date.UTC(2026, 10, 24, 10, 0, i)).toISOString() }, []);
      const claimed = await Promise.all(stores.map((s, i) => s.coordination.claimUnownedRuns(`replica-${i}`, 60_000)));
      const all = claimed.flat().map((x) => x.runId);
      expect(all).toHaveLength(40);
      expect(new Set(all).size).toBe(40);
      // Stalled fire claims likewise: each taken over by exactly one replica.
      for (let i = 0; i < 40; i++) await stores[0].coordination.claimFire('s', new Date(Date.UTC(2026, 10, 24, 10, i)), 'dead', 0, `f-${i}`);
      await new Promise((r) => setTimeout(r, 1100));
      const fires = (await Promise.all(stores.map((s, i) => s.coordination.takeStalledFires(`replica-${i}`, 1000, { limit: 40 })))).flat();
      expect(fires).toHaveLength(40);
      expect(new Set(fires.map((f) => f.runId)).size).toBe(40);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
