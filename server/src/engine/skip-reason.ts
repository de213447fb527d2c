import type { TaskIR, TaskRunRecord } from '@cellgraph/schema';

/** What deciding a skip needs of a task's IR. */
export type SkipDecisionIR = Pick<TaskIR, 'name' | 'upstream' | 'trigger' | 'foreach' | 'when'>;

/**
 * Why each skipped task of a run was skipped, in the words the engine's events use:
 * `condition false: <when>`, `upstream task <u> was skipped` (trigger `all-succeeded`, or
 * the task holding a foreach list), or `not started: the run <status> first`. Derived
 * from the IR and the task records, the way the engine decides (engine.ts skippedUpstream),
 * so runs recorded before reasons were shown get them too and no column is needed.
 */
export function skipReasons(ir: { tasks: readonly SkipDecisionIR[] }, tasks: Pick<TaskRunRecord, 'task' | 'status' | 'attempts'>[], runStatus?: string): Map<string, string> {
  const status = new Map(tasks.map((t) => [t.task, t]));
  const reasons = new Map<string, string>();
  for (const t of ir.tasks) {
    const record = status.get(t.name);
    if (record?.status !== 'skipped') continue;
    const skipped = t.upstream.filter((u) => status.get(u)?.status === 'skipped');
    const by = (t.trigger ?? 'all-succeeded') === 'all-succeeded' ? skipped[0] : skipped.find((u) => u === t.foreach?.from);
    const notStarted = `not started: the run ${runStatus === 'cancelled' ? 'was cancelled' : 'failed'} first`;
    // IR order is topological: an upstream's reason is known here.
    if (by !== undefined) reasons.set(t.name, reasons.get(by) === notStarted ? notStarted : `upstream task ${by} was skipped`);
    // Only a condition ends an attempt as skipped: the task started and its `when` was false.
    else if (t.when !== undefined && record.attempts > 0) reasons.set(t.name, `condition false: ${t.when}`);
    else reasons.set(t.name, notStarted);
  }
  return reasons;
}
