import type { Schedule } from '@cellgraph/schema';
import type { ScheduleRepository } from '../scheduler/repository';
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
 * onto the store's prefixed ones (a state store has runs and versions too). On a database
 * replicas share, each fire is claimed first, so replicas fire it once.
 */
export function scheduleRepository(store: ScheduleStore, shared?: { coordination: Coordination; owner: string }): ScheduleRepository {
  return {
    ...(shared !== undefined && shared.coordination.shared
      ? { claimFire: (id: string, t: Date, lateMs: number) => shared.coordination.claimFire(id, t, shared.owner, lateMs) }
      : {}),
    list: () => store.listSchedules(),
    get: (id) => store.getSchedule(id),
    save: (s) => store.saveSchedule(s),
    delete: (id) => store.deleteSchedule(id),
    getLastFiredAt: (id) => store.getScheduleLastFiredAt(id),
    setLastFiredAt: (id, t) => store.setScheduleLastFiredAt(id, t)
  };
}
