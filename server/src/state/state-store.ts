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
 * The durable run state the engine needs, behind one interface so a Postgres
 * implementation can stand beside SQLite without touching the engine. Small metadata
 * only: values live in the artifact store.
 */
export interface StateStore {
  saveWorkflow(w: { version: string; name: string; notebookPath: string }): Promise<void>;
  /** Creates a run and its task records in one transaction. */
  createRun(run: RunRecord, tasks: TaskRunRecord[]): Promise<void>;
  updateRun(id: string, patch: RunPatch): Promise<void>;
  updateTaskRun(runId: string, task: string, patch: TaskRunPatch): Promise<void>;
  /** Throws NotFoundError for an unknown id. */
  getRun(id: string): Promise<RunRecord>;
  /** Newest first; `status` and `workflow` narrow the list. */
  listRuns(options?: { limit?: number; status?: RunRecord['status']; workflow?: string }): Promise<RunRecord[]>;
  /** Task records in the workflow's task order. */
  getTaskRuns(runId: string): Promise<TaskRunRecord[]>;
  /** Appends an event, assigning the next `seq` for its run. */
  appendEvent(event: Omit<RunEvent, 'seq'>): Promise<RunEvent>;
  listEvents(runId: string, afterSeq?: number): Promise<RunEvent[]>;
  getCacheEntry(key: string): Promise<CacheEntry | undefined>;
  putCacheEntry(entry: CacheEntry): Promise<void>;
  close(): Promise<void>;
}
