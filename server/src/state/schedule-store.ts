import type { Schedule } from '@cellgraph/schema';
import type { ScheduleRepository } from '../scheduler/repository';
import { scheduledRunId } from '../scheduler/run-ids';
import type { Coordination } from './coordination';

/**
 * Cron schedules beside the run state. A separate interface (like WorkflowVersionStore)
 * so the engine keeps depending only on what it uses; SQLite implements it on the same
 * database, in one table holding each schedule's JSON and the last fire it handled.
 */
export interface ScheduleStore {
  /** Every schedule, paused ones included, by id. */
  listSchedules(): Promise<Schedule[]>;
  getSchedule(id: string): Promise<Schedule | undefined>;
  /** Inserts or replaces by id, keeping the stored lastFiredAt. */
  saveSchedule(schedule: Schedule): Promise<void>;
  /** False when there was none. */
  deleteSchedule(id: string): Promise<boolean>;
  getScheduleLastFiredAt(id: string): Promise<Date | undefined>;
  /** A no-op for a schedule deleted meanwhile (a fire in flight must not resurrect it). */
  setScheduleLastFiredAt(id: string, fireTime: Date): Promise<void>;
}

/**
 * The scheduler's port over a ScheduleStore: the scheduler's short method names mapped
 * onto the store's prefixed ones (a state store has runs and versions too). With
 * coordination, each fire is claimed first (so replicas on one database fire it once) and
 * claims whose run was never recorded are taken back and fired again: on a shared database
 * once they are past the grace period with nobody on their run (and at boot, this replica's
 * own); on a database one process owns, all of them at boot (they are its previous life's).
 */
export function scheduleRepository(store: ScheduleStore, coordinated?: { coordination: Coordination; owner: string }): ScheduleRepository {
  const claims: Pick<ScheduleRepository, 'claimFire' | 'takeStalledFires' | 'settleFire'> = {};
  if (coordinated !== undefined) {
    const { coordination, owner } = coordinated;
    claims.claimFire = (id, t, lateMs) => coordination.claimFire(id, t, owner, lateMs, scheduledRunId(id, t));
    claims.takeStalledFires = async (graceMs, atBoot) => {
      if (coordination.shared) return coordination.takeStalledFires(owner, graceMs, { ownToo: atBoot });
      return coordination.takeStalledFires(owner, graceMs, atBoot ? { takeOver: 'any' } : {});
    };
    claims.settleFire = (id, t) => coordination.settleFire(id, t);
  }
  return {
    ...claims,
    list: () => store.listSchedules(),
    get: (id) => store.getSchedule(id),
    save: (s) => store.saveSchedule(s),
    delete: (id) => store.deleteSchedule(id),
    getLastFiredAt: (id) => store.getScheduleLastFiredAt(id),
    setLastFiredAt: (id, t) => store.setScheduleLastFiredAt(id, t)
  };
}
