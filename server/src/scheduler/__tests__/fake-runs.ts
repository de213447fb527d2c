import type { RunId, Schedule } from '@cellgraph/schema';
import type { RunPort } from '../scheduler';

/** A RunPort over arrays: records launches and cancellations, and lets tests finish runs. */
export class FakeRuns implements RunPort {
  readonly launched: Array<{ scheduleId: string; fireTime: string; runId: RunId; params: Schedule['params']; lateMs?: number }> = [];
  readonly cancelled: RunId[] = [];
  readonly existing = new Set<RunId>();
  private readonly active = new Map<string, RunId[]>();
  failNext: Error | undefined;

  async launch(schedule: Schedule, fireTime: Date, runId: RunId, lateMs?: number): Promise<void> {
    if (this.failNext !== undefined) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    if (this.existing.has(runId)) throw new Error(`run ${runId} launched twice`);
    this.existing.add(runId);
    this.launched.push({ scheduleId: schedule.id, fireTime: fireTime.toISOString(), runId, params: schedule.params, ...(lateMs !== undefined ? { lateMs } : {}) });
    this.active.set(schedule.id, [...(this.active.get(schedule.id) ?? []), runId]);
  }

  async runExists(runId: RunId): Promise<boolean> {
    return this.existing.has(runId);
  }

  async activeRuns(scheduleId: string): Promise<RunId[]> {
    return [...(this.active.get(scheduleId) ?? [])];
  }

  async cancelRun(runId: RunId): Promise<void> {
    this.cancelled.push(runId);
    this.finish(runId);
  }

  /** Marks a run finished: no longer active. */
  finish(runId: RunId): void {
    for (const [id, runs] of this.active) this.active.set(id, runs.filter((r) => r !== runId));
  }

  fireTimes(scheduleId?: string): string[] {
    return this.launched.filter((l) => scheduleId === undefined || l.scheduleId === scheduleId).map((l) => l.fireTime);
  }
}
