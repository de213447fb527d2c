import type { RunId, Schedule } from '@cellgraph/schema';
import type { RunPort } from '../scheduler';
import { parseScheduledRunId } from '../scheduler/run-ids';
import type { StateStore } from '../state/state-store';
import type { WorkflowVersionStore } from '../state/version-store';
import type { RunService } from './run-service';
import type { WorkflowService } from './workflow-service';

/**
 * The scheduler's RunPort over the server's run service: a fire runs the schedule's
 * frozen version with its parameters under the run id derived from schedule and fire
 * time, notifying the schedule's webhook. The run id is the idempotency key: a launch
 * for an id that exists (a replayed fire, a second server on the same database) is a no-op.
 */
export class ScheduledRuns implements RunPort {
  constructor(
    private readonly state: StateStore & WorkflowVersionStore,
    private readonly workflows: WorkflowService,
    private readonly runs: RunService,
    /** Called once a fire started its run (the audit trail records it as the project's service). */
    private readonly fired?: (schedule: Schedule, runId: RunId) => Promise<void>
  ) {}

  async launch(schedule: Schedule, fireTime: Date, runId: RunId, lateMs = 0): Promise<void> {
    if (await this.runs.exists(runId)) return;
    const record = await this.state.getVersion(schedule.workflow, { version: schedule.version });
    try {
      await this.workflows.runVersion(record, {
        params: schedule.params,
        runId,
        // The schedule's cache policy: `recompute` refuses cached results, so every task runs.
        ...(schedule.cachePolicy === 'recompute' ? { noCache: true } : {}),
        scheduled: { scheduledFor: fireTime.toISOString(), firedLateMs: Math.round(lateMs) },
        webhooks: schedule.webhookUrl !== undefined ? [{ url: schedule.webhookUrl, source: 'schedule' }] : []
      });
      await this.fired?.(schedule, runId);
    } catch (err) {
      // Another fire of the same second won the race and recorded the run: that is the run.
      if (await this.runs.exists(runId)) return;
      throw err;
    }
  }

  runExists(runId: RunId): Promise<boolean> {
    return this.runs.exists(runId);
  }

  /** Queued or running runs whose id says this schedule started them. */
  async activeRuns(scheduleId: string): Promise<RunId[]> {
    const active: RunId[] = [];
    for (const status of ['queued', 'running'] as const) {
      for (const run of await this.state.listRuns({ status, limit: 1000 })) {
        if (parseScheduledRunId(run.id)?.scheduleId === scheduleId) active.push(run.id);
      }
    }
    return active;
  }

  async cancelRun(runId: RunId): Promise<void> {
    await this.runs.requestCancelAnywhere(runId);
  }
}
