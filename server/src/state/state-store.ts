import type { Metrics, OutputRef, RunEvent, RunRecord, TaskRunRecord } from '@cellgraph/schema';

/** A cached task result: what a later run reuses instead of running the task. */
export interface CacheEntry {
  key: string;
  task: string;
  outputs: OutputRef[];
  metrics: Metrics;
  /** The run and attempt that produced it (its cell outputs feed the executed notebook). */
  runId: string;
  attempt: number;
  createdAt: string;
}

/** Fields of a run that change while it runs. */
export type RunPatch = Partial<Pick<RunRecord, 'status' | 'startedAt' | 'finishedAt' | 'error' | 'executedNotebook'>>;

/** Fields of a task run that change while it runs. */
export type TaskRunPatch = Partial<Omit<TaskRunRecord, 'runId' | 'task'>>;

/**
 * Who may write a run's state: the lease's owner and epoch when the writer took the run.
 * A write given a fence goes through only while the run's lease still has that owner and
 * epoch; otherwise nothing is written and it throws LeaseLostError (another replica adopted
 * the run while this one stalled). Checked in the write's own statement, so a write racing
 * the takeover lands either wholly before it or not at all.
 */
export interface RunFence {
  owner: string;
  epoch: number;
}

/**
 * The durable run state the engine needs, behind one interface so a Postgres
 * implementation can stand beside SQLite without touching the engine. Small metadata
 * only: values live in the artifact store.
 */
export interface StateStore {
  saveWorkflow(w: { version: string; name: string; notebookPath: string }): Promise<void>;
  /** Creates a run and its task records in one transaction. */
  createRun(run: RunRecord, tasks: TaskRunRecord[]): Promise<void>;
  /** With a fence, writes only while the run's lease is still the fence's (else LeaseLostError, nothing written). */
  updateRun(id: string, patch: RunPatch, fence?: RunFence): Promise<void>;
  /** With a fence, writes only while the run's lease is still the fence's (else LeaseLostError, nothing written). */
  updateTaskRun(runId: string, task: string, patch: TaskRunPatch, fence?: RunFence): Promise<void>;
  /** Throws LeaseLostError unless the run's lease is still the fence's (before a write outside the database). */
  assertFence(runId: string, fence: RunFence): Promise<void>;
  /** Throws NotFoundError for an unknown id. */
  getRun(id: string): Promise<RunRecord>;
  /** Newest first; `status` and `workflow` narrow the list. */
  listRuns(options?: { limit?: number; status?: RunRecord['status']; workflow?: string }): Promise<RunRecord[]>;
  /** Task records in the workflow's task order. */
  getTaskRuns(runId: string): Promise<TaskRunRecord[]>;
  /** Appends an event, assigning the next `seq` for its run; fenced like updateRun. */
  appendEvent(event: Omit<RunEvent, 'seq'>, fence?: RunFence): Promise<RunEvent>;
  listEvents(runId: string, afterSeq?: number): Promise<RunEvent[]>;
  getCacheEntry(key: string): Promise<CacheEntry | undefined>;
  putCacheEntry(entry: CacheEntry): Promise<void>;
  close(): Promise<void>;
}
