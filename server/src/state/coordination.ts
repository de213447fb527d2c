import { z } from 'zod';
import type { FireClaim } from '../scheduler/repository';
import type { SqlRunner } from './sql-runner';

/** A run leased to this process, with the epoch its state writes are fenced by. */
export interface LeaseClaim {
  runId: string;
  epoch: number;
}

/**
 * What replicas of the server sharing one database agree through: who owns each
 * unfinished run (a lease renewed by heartbeat), who fired each schedule instant (a claim
 * row), and the output of running attempts (so any replica shows live logs). Written once
 * over SqlRunner, so SQLite and PostgreSQL run the same statements.
 */
export interface Coordination {
  /** True when several server processes may share the database (PostgreSQL). */
  readonly shared: boolean;
  /**
   * Leases `runId` to `owner` unless another owner holds an unexpired lease. Returns the
   * lease's epoch when `owner` holds it now (kept when `owner` held it already, one more
   * when it changes hands), undefined when another owner does.
   */
  acquireLease(runId: string, owner: string, ttlMs: number): Promise<number | undefined>;
  /**
   * Extends the leases of `runs` that `owner` still holds at the epoch given (the runs it
   * executes); returns the run ids extended. A run missing from the answer was taken by
   * another replica meanwhile: its owner must stop it. Leases of `owner` not named expire.
   */
  renewLeases(owner: string, ttlMs: number, runs: readonly LeaseClaim[]): Promise<string[]>;
  releaseLease(runId: string, owner: string): Promise<void>;
  /**
   * Leases to `owner` the unfinished (queued or running) runs nobody holds: no lease or an
   * expired one; with `ownToo` (at boot only) also those leased to `owner` itself (a replica
   * restarted under the same id); with `takeOver: 'any'`, every unfinished run (one process
   * owns the database, so whoever held them before is this process's previous life).
   * Returns the runs taken with their new epochs, oldest first. Replicas claiming at once
   * never take the same run.
   */
  claimUnownedRuns(owner: string, ttlMs: number, options?: ClaimOptions): Promise<LeaseClaim[]>;
  /**
   * True for exactly one caller per schedule and fire instant, whichever replica asks. The
   * claim keeps who made it, when, and the run it stands for, so it can be recovered.
   */
  claimFire(scheduleId: string, fireTime: Date, owner: string, lateMs: number, runId: string): Promise<boolean>;
  /**
   * Takes over for `owner` the unsettled claims whose run does not exist: claimed more than
   * `graceMs` ago and with no live lease on the run (its claimant stopped between claim and
   * record); with `ownToo` also `owner`'s own (at boot), with `takeOver: 'any'` every one
   * (one process owns the database). A claim whose run exists is settled, never taken.
   * Returns the claims taken as they were before (who claimed them, when), oldest fire first.
   * Replicas taking at once never take the same claim.
   */
  takeStalledFires(owner: string, graceMs: number, options?: ClaimOptions): Promise<FireClaim[]>;
  /** Marks a claimed fire dealt with although no run came of it. */
  settleFire(scheduleId: string, fireTime: Date): Promise<void>;
  /** Asks whichever replica runs `runId` to cancel it (it looks on its next heartbeat). */
  requestCancel(runId: string): Promise<void>;
  /** The cancellations asked of runs `owner` holds, each handed out once. */
  takeCancelRequests(owner: string): Promise<string[]>;
  /** Replaces the output recorded so far of a running attempt. */
  putAttemptLog(runId: string, task: string, attempt: number, text: string): Promise<void>;
  getAttemptLog(runId: string, task: string, attempt: number): Promise<string | undefined>;
  /** Forgets what a finished run left here: live output (the store keeps every full log) and cancel requests. */
  forgetRun(runId: string): Promise<void>;
}

/** Which unfinished runs claimUnownedRuns may take (and which stalled fire claims takeStalledFires may). */
export interface ClaimOptions {
  limit?: number;
  takeOver?: 'expired' | 'any';
  ownToo?: boolean;
}

const RunIdRow = z.object({ run_id: z.string() });
const EpochRow = z.object({ run_id: z.string(), epoch: z.number() });
const FireClaimRow = z.object({ schedule_id: z.string(), fire_time: z.string(), run_id: z.string(), owner: z.string(), claimed_at: z.string() });

/** Coordination in the state database's own tables (migration 4). */
export class SqlCoordination implements Coordination {
  constructor(
    private readonly db: SqlRunner,
    readonly shared: boolean
  ) {}

  async acquireLease(runId: string, owner: string, ttlMs: number): Promise<number | undefined> {
    const now = Date.now();
    const rows = await this.db.all(
      `INSERT INTO run_leases (run_id, owner, expires_at, epoch) VALUES (?, ?, ?, 1)
       ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
         epoch = CASE WHEN run_leases.owner = excluded.owner THEN run_leases.epoch ELSE run_leases.epoch + 1 END
       WHERE run_leases.owner = excluded.owner OR run_leases.expires_at < ?
       RETURNING run_id, epoch`,
      [runId, owner, now + ttlMs, now]
    );
    return rows.length === 1 ? EpochRow.parse(rows[0]).epoch : undefined;
  }

  async renewLeases(owner: string, ttlMs: number, runs: readonly LeaseClaim[]): Promise<string[]> {
    if (runs.length === 0) return [];
    const epochs = new Map(runs.map((r) => [r.runId, r.epoch]));
    const rows = await this.db.all(
      `UPDATE run_leases SET expires_at = ? WHERE owner = ? AND run_id IN (${runs.map(() => '?').join(', ')}) RETURNING run_id, epoch`,
      [Date.now() + ttlMs, owner, ...runs.map((r) => r.runId)]
    );
    // A lease of `owner` at another epoch is a later claim of this process, not this execution's.
    return rows.map((r) => EpochRow.parse(r)).filter((r) => epochs.get(r.run_id) === r.epoch).map((r) => r.run_id);
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    await this.db.all('DELETE FROM run_leases WHERE run_id = ? AND owner = ?', [runId, owner]);
  }

  async claimUnownedRuns(owner: string, ttlMs: number, options: ClaimOptions = {}): Promise<LeaseClaim[]> {
    const any = options.takeOver === 'any';
    // Airflow 2's scheduler HA: candidates are locked with SKIP LOCKED, so a replica claiming
    // at the same moment passes over them instead of waiting; the conditional upsert is the
    // guarantee either way (it takes a lease only if it is still free).
    const lock = this.db.dialect === 'postgres' ? 'FOR UPDATE OF r SKIP LOCKED' : '';
    return this.db.transaction(async (tx) => {
      const now = Date.now();
      const candidates = await tx.all(
        `SELECT r.id AS run_id FROM runs r LEFT JOIN run_leases l ON l.run_id = r.id
         WHERE r.status IN ('queued', 'running') AND (? OR l.run_id IS NULL OR l.expires_at < ? OR (? AND l.owner = ?))
         ORDER BY r.created_at, r.id LIMIT ? ${lock}`,
        [any, now, options.ownToo === true, owner, options.limit ?? 1000]
      );
      const taken: LeaseClaim[] = [];
      for (const row of candidates) {
        const runId = RunIdRow.parse(row).run_id;
        // A claim is a new life of the run, even by the same owner (a restart): the epoch
        // goes up, so writes of any earlier execution are fenced out.
        const won = await tx.all(
          `INSERT INTO run_leases (run_id, owner, expires_at, epoch) VALUES (?, ?, ?, 1)
           ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, epoch = run_leases.epoch + 1
           WHERE ? OR run_leases.owner = excluded.owner OR run_leases.expires_at < ?
           RETURNING run_id, epoch`,
          [runId, owner, now + ttlMs, any, now]
        );
        if (won.length === 1) taken.push({ runId, epoch: EpochRow.parse(won[0]).epoch });
      }
      return taken;
    });
  }

  async claimFire(scheduleId: string, fireTime: Date, owner: string, lateMs: number, runId: string): Promise<boolean> {
    const rows = await this.db.all(
      `INSERT INTO schedule_fires (schedule_id, fire_time, owner, claimed_at, late_ms, run_id) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (schedule_id, fire_time) DO NOTHING RETURNING schedule_id`,
      [scheduleId, fireTime.toISOString(), owner, new Date().toISOString(), Math.max(0, Math.round(lateMs)), runId]
    );
    return rows.length === 1;
  }

  async takeStalledFires(owner: string, graceMs: number, options: ClaimOptions = {}): Promise<FireClaim[]> {
    // Claims whose run was recorded are done with, whoever recorded it. A statement of its
    // own (not in the transaction below), so replicas doing this at once never deadlock.
    await this.db.all(
      'UPDATE schedule_fires SET settled_at = ? WHERE settled_at IS NULL AND EXISTS (SELECT 1 FROM runs r WHERE r.id = schedule_fires.run_id)',
      [new Date().toISOString()]
    );
    const lock = this.db.dialect === 'postgres' ? 'FOR UPDATE OF f SKIP LOCKED' : '';
    return this.db.transaction(async (tx) => {
      const now = Date.now();
      // A live lease on the run means its claimant is starting it (preparing an image can
      // take minutes): only a claim past the grace with nobody on its run is stalled.
      const candidates = await tx.all(
        `SELECT f.schedule_id, f.fire_time, f.run_id, f.owner, f.claimed_at FROM schedule_fires f
         WHERE f.settled_at IS NULL AND f.run_id IS NOT NULL
           AND (? OR (? AND f.owner = ?)
                OR (f.claimed_at < ? AND NOT EXISTS (SELECT 1 FROM run_leases l WHERE l.run_id = f.run_id AND l.expires_at >= ?)))
         ORDER BY f.fire_time, f.schedule_id LIMIT ? ${lock}`,
        [options.takeOver === 'any', options.ownToo === true, owner, new Date(now - graceMs).toISOString(), now, options.limit ?? 100]
      );
      const taken: FireClaim[] = [];
      for (const row of candidates) {
        const c = FireClaimRow.parse(row);
        const fireTime = new Date(c.fire_time);
        // Compare-and-set on the claim as read: of replicas taking it at once, one wins.
        const won = await tx.all(
          `UPDATE schedule_fires SET owner = ?, claimed_at = ?, late_ms = ?
           WHERE schedule_id = ? AND fire_time = ? AND owner = ? AND claimed_at = ? AND settled_at IS NULL RETURNING schedule_id`,
          [owner, new Date(now).toISOString(), Math.max(0, now - fireTime.getTime()), c.schedule_id, c.fire_time, c.owner, c.claimed_at]
        );
        if (won.length === 1) {
          taken.push({ scheduleId: c.schedule_id, fireTime, runId: c.run_id, claimedBy: c.owner, claimedAt: new Date(c.claimed_at) });
        }
      }
      return taken;
    });
  }

  async settleFire(scheduleId: string, fireTime: Date): Promise<void> {
    await this.db.all('UPDATE schedule_fires SET settled_at = ? WHERE schedule_id = ? AND fire_time = ? AND settled_at IS NULL', [
      new Date().toISOString(),
      scheduleId,
      fireTime.toISOString()
    ]);
  }

  async requestCancel(runId: string): Promise<void> {
    await this.db.all('INSERT INTO run_cancels (run_id, requested_at) VALUES (?, ?) ON CONFLICT (run_id) DO NOTHING', [runId, new Date().toISOString()]);
  }

  async takeCancelRequests(owner: string): Promise<string[]> {
    const rows = await this.db.all('DELETE FROM run_cancels WHERE run_id IN (SELECT run_id FROM run_leases WHERE owner = ?) RETURNING run_id', [owner]);
    return rows.map((r) => RunIdRow.parse(r).run_id);
  }

  async putAttemptLog(runId: string, task: string, attempt: number, text: string): Promise<void> {
    await this.db.all(
      `INSERT INTO attempt_logs (run_id, task, attempt, text) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, task, attempt) DO UPDATE SET text = excluded.text`,
      [runId, task, attempt, text]
    );
  }

  async getAttemptLog(runId: string, task: string, attempt: number): Promise<string | undefined> {
    const rows = await this.db.all('SELECT text FROM attempt_logs WHERE run_id = ? AND task = ? AND attempt = ?', [runId, task, attempt]);
    return rows.length === 0 ? undefined : z.object({ text: z.string() }).parse(rows[0]).text;
  }

  async forgetRun(runId: string): Promise<void> {
    await this.db.all('DELETE FROM attempt_logs WHERE run_id = ?', [runId]);
    await this.db.all('DELETE FROM run_cancels WHERE run_id = ?', [runId]);
  }
}
