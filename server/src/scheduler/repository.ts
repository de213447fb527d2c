import { Schedule } from '@cellgraph/schema';

/**
 * Where schedules live. The server implements it over its state store (SQLite today);
 * the scheduler only needs these calls, async so a networked database fits too.
 */
export interface ScheduleRepository {
  /** Every schedule, paused ones included. */
  list(): Promise<Schedule[]>;
  /** One schedule, or undefined when there is none with this id. */
  get(id: string): Promise<Schedule | undefined>;
  /** Inserts or replaces by id. */
  save(schedule: Schedule): Promise<void>;
  /** Removes the schedule and its lastFiredAt; false if there was none. */
  delete(id: string): Promise<boolean>;
  /**
   * The latest fire time the scheduler has dealt with for this schedule (launched, found
   * already launched, or skipped by policy). Start-up replays nothing at or before it.
   */
  getLastFiredAt(id: string): Promise<Date | undefined>;
  setLastFiredAt(id: string, fireTime: Date): Promise<void>;
  /**
   * Claims one fire for this process when several schedulers share the repository
   * (replicas on one database): true for exactly one caller per schedule and instant.
   * Absent means one scheduler only; the run id derived from the instant still makes a
   * second launch a no-op.
   */
  claimFire?(id: string, fireTime: Date, lateMs: number): Promise<boolean>;
}

/**
 * A repository in a Map, for tests and for embedding the scheduler without durable state.
 * Stores copies, so callers mutating a returned schedule cannot change what is stored.
 */
export class InMemoryScheduleRepository implements ScheduleRepository {
  private readonly schedules = new Map<string, Schedule>();
  private readonly lastFired = new Map<string, Date>();

  async list(): Promise<Schedule[]> {
    return [...this.schedules.values()].map((s) => structuredClone(s));
  }

  async get(id: string): Promise<Schedule | undefined> {
    const s = this.schedules.get(id);
    return s === undefined ? undefined : structuredClone(s);
  }

  async save(schedule: Schedule): Promise<void> {
    this.schedules.set(schedule.id, structuredClone(schedule));
  }

  async delete(id: string): Promise<boolean> {
    this.lastFired.delete(id);
    return this.schedules.delete(id);
  }

  async getLastFiredAt(id: string): Promise<Date | undefined> {
    const d = this.lastFired.get(id);
    return d === undefined ? undefined : new Date(d);
  }

  async setLastFiredAt(id: string, fireTime: Date): Promise<void> {
    this.lastFired.set(id, new Date(fireTime));
  }
}
