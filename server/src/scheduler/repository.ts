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
   * Claims one fire for this process before its run is launched: true for exactly one
   * caller per schedule and instant (replicas on one database). Absent means one scheduler
   * and no durable claims; the run id derived from the instant still makes a second launch
   * a no-op.
   */
  claimFire?(id: string, fireTime: Date, lateMs: number): Promise<boolean>;
  /**
   * Takes over, for this process, the claims whose run was never recorded although their
   * fire should long have been launched: claimed more than `graceMs` ago with no live lease
   * on the run (its claimant died between claim and record). At boot also this process's
   * own earlier claims, and with one process per database every such claim. Two callers
   * never take the same claim. Present together with claimFire and settleFire.
   */
  takeStalledFires?(graceMs: number, atBoot: boolean): Promise<FireClaim[]>;
  /** Marks a claimed fire dealt with although no run came of it (skipped, or failed for good). */
  settleFire?(id: string, fireTime: Date): Promise<void>;
}

/** A claimed fire, with who claimed it and when (before a take-over: the claimant that stopped). */
export interface FireClaim {
  scheduleId: string;
  fireTime: Date;
  runId: string;
  claimedBy: string;
  claimedAt: Date;
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
