import { LeaseLostError } from '../errors';
import type { Dialect } from './migrations';
import type { SqlRunner } from './sql-runner';
import type { RunFence } from './state-store';

/**
 * The condition a fenced write adds to its WHERE clause: the run's lease still has the
 * fence's owner and epoch. Parameters: run id, owner, epoch (positional `?`, or named
 * `@fenceRun`, `@fenceOwner`, `@fenceEpoch` for better-sqlite3). On PostgreSQL the lease row
 * is share-locked, so a replica taking the lease over waits for the write to commit, and a
 * write after the takeover sees it (READ COMMITTED re-checks a row locked meanwhile): a
 * write lands wholly before the takeover or not at all. SQLite has one writer at a time.
 */
export function fenceCondition(dialect: Dialect, named = false): string {
  const [run, owner, epoch] = named ? ['@fenceRun', '@fenceOwner', '@fenceEpoch'] : ['?', '?', '?'];
  return `EXISTS (SELECT 1 FROM run_leases WHERE run_id = ${run} AND owner = ${owner} AND epoch = ${epoch}${dialect === 'postgres' ? ' FOR SHARE' : ''})`;
}

/** The positional parameters of fenceCondition. */
export function fenceParams(runId: string, fence: RunFence): unknown[] {
  return [runId, fence.owner, fence.epoch];
}

/** The named parameters of fenceCondition(dialect, true). */
export function namedFenceParams(runId: string, fence: RunFence): Record<string, unknown> {
  return { fenceRun: runId, fenceOwner: fence.owner, fenceEpoch: fence.epoch };
}

/** The error of a write the fence dropped. */
export function leaseLost(runId: string, fence: RunFence): LeaseLostError {
  return new LeaseLostError(`run ${runId} is no longer leased to ${fence.owner} (epoch ${fence.epoch}): another replica owns it now; nothing was written`);
}

/**
 * Throws LeaseLostError unless the run's lease is still the fence's. Inside a PostgreSQL
 * transaction the lease row stays share-locked until it ends, so the writes that follow
 * in the same transaction are fenced too.
 */
export async function checkFence(db: SqlRunner, runId: string, fence: RunFence): Promise<void> {
  const rows = await db.all(`SELECT 1 AS held WHERE ${fenceCondition(db.dialect)}`, fenceParams(runId, fence));
  if (rows.length === 0) throw leaseLost(runId, fence);
}
