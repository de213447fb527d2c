/**
 * The lease heartbeat's decisions, over a scripted Coordination (the real statements are
 * tested on SQLite and PostgreSQL in coordination.integration.test.ts, and the whole path
 * with two real servers in lease-loss.integration.test.ts): a run whose lease was taken is
 * given up at once; when renewing fails or hangs, every run is given up before its lease
 * can expire, and not before.
 */
import type { ClaimOptions, Coordination, LeaseClaim } from '../../state/coordination';
import { RunLeases } from '../run-leases';

type Renew = (runs: readonly LeaseClaim[]) => Promise<string[]>;

function coordination(renew: Renew): Coordination {
  const none = async () => [];
  return {
    shared: true,
    acquireLease: async () => 1,
    renewLeases: async (_owner: string, _ttl: number, runs: readonly LeaseClaim[]) => renew(runs),
    releaseLease: async () => undefined,
    claimUnownedRuns: async (_o: string, _t: number, _c?: ClaimOptions) => [],
    claimFire: async () => true,
    takeStalledFires: none,
    settleFire: async () => undefined,
    requestCancel: async () => undefined,
    takeCancelRequests: none,
    putAttemptLog: async () => undefined,
    getAttemptLog: async () => undefined,
    forgetRun: async () => undefined
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function leases(renew: Renew, active: LeaseClaim[]) {
  const givenUp: { ids: string[]; reason: string; at: number }[] = [];
  const log: string[] = [];
  const l = new RunLeases({
    coordination: coordination(renew),
    owner: 'replica-a',
    active: () => active,
    adopt: async () => undefined,
    cancel: () => undefined,
    giveUp: (ids, reason) => givenUp.push({ ids, reason, at: Date.now() }),
    log: (line) => log.push(line),
    ttlMs: 600,
    heartbeatMs: 100
  });
  return { l, givenUp, log };
}

it('gives up the runs whose lease another replica took, and keeps the others', async () => {
  const { l, givenUp } = leases(async (runs) => runs.filter((r) => r.runId !== 'r-2').map((r) => r.runId), [
    { runId: 'r-1', epoch: 1 },
    { runId: 'r-2', epoch: 1 }
  ]);
  l.start();
  await sleep(250);
  await l.stop();
  expect(givenUp[0]).toEqual({ ids: ['r-2'], reason: 'another replica holds its lease now (this one stalled past the lease)', at: expect.any(Number) });
  expect(givenUp.flatMap((g) => g.ids).every((id) => id === 'r-2')).toBe(true);
});

it('gives every run up once renewing has failed for ttl − heartbeat, not before', async () => {
  const started = Date.now();
  const { l, givenUp, log } = leases(async () => {
    throw new Error('connection refused');
  }, [{ runId: 'r-1', epoch: 3 }]);
  l.start();
  await sleep(900);
  await l.stop();
  expect(log.some((line) => line.includes('lease heartbeat failed') && line.includes('connection refused'))).toBe(true);
  expect(givenUp.length).toBeGreaterThan(0);
  expect(givenUp[0].ids).toEqual(['r-1']);
  expect(givenUp[0].reason).toMatch(/^its lease could not be renewed for \d+ ms \(lease 600 ms\): connection refused$/);
  expect(givenUp[0].at - started).toBeGreaterThanOrEqual(500);
});

it('counts a renewal that does not answer within a heartbeat as failed', async () => {
  const { l, givenUp, log } = leases(() => new Promise<string[]>(() => undefined), [{ runId: 'r-1', epoch: 1 }]);
  l.start();
  await sleep(1000);
  await l.stop();
  expect(log.some((line) => line.includes('renewing the leases took longer than 100 ms'))).toBe(true);
  expect(givenUp[0]?.ids).toEqual(['r-1']);
});
