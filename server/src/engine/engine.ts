import * as os from 'node:os';
import {
  ArtifactRef,
  CellRun,
  ElementCounts,
  JsonValue,
  Metrics,
  Notebook,
  OutputRef,
  RunEvent,
  RunRecord,
  RunSummary,
  StoreConfig,
  TaskError,
  TaskIR,
  TaskResult,
  TaskRunRecord,
  TaskStatus,
  WorkflowIR,
  attemptKey,
  executedNotebookKey
} from '@cellgraph/schema';
import { LeaseLostError, StateError } from '../errors';
import type { AttemptHandle, AttemptSpec, Executor } from '../executors/executor';
import { type BackoffPolicy, backoffDelay, retry } from '../retry';
import type { RunFence, StateStore } from '../state/state-store';
import type { ArtifactStore } from '../stores';
import { taskCacheKey } from './cache-key';
import { buildExecutedNotebook } from './executed-notebook';
import { skipReasons } from './skip-reason';
import { ENCODED_UNDEFINED } from './encoded-list';
import { ForeachRun } from './foreach';
import { writeElementRecords } from './element-records';
import { resolveParams } from './params';
import { newRunId } from './run-id';
import { Slots } from './slots';
import { publishWorkflow } from './workflow-files';

/** What the engine is built from. */
export interface EngineOptions {
  store: ArtifactStore;
  /** The same store as configuration, handed to task processes so they can open it. */
  storeConfig: StoreConfig;
  state: StateStore;
  executor: Executor;
  /** Task attempts running at once across all runs of this engine (default: CPU count). */
  concurrency?: number;
  /** Waits between a failed attempt and the task's retry (default: up to 1 s, 2 s, 4 s, ... capped at one minute). */
  backoff?: BackoffPolicy;
  /** Path of the task entry script (tests point at a build). */
  taskEntry?: string;
}

/** A request to run a compiled workflow. */
export interface StartRunOptions {
  ir: WorkflowIR;
  notebookText: string;
  notebookPath: string;
  /** The directory tasks run in: the notebook's. */
  workDir: string;
  /** Parameter overrides, typed (the CLI parses `-p` with parseParamAssignments first). */
  params?: Record<string, unknown>;
  /** Ignore cached results (fresh results are still cached for later runs). */
  noCache?: boolean;
  /** A scheduled run's fire instant and lateness, recorded with the run. */
  scheduled?: { scheduledFor: string; firedLateMs: number };
  runId?: string;
  /**
   * Results to take over instead of running tasks (Metaflow's resume, on the server): the
   * succeeded tasks of an earlier run of the same workflow version. A task is reused only
   * when every output it recorded is still in the store; otherwise it runs.
   */
  reuse?: { fromRunId: string; tasks: TaskRunRecord[] };
  /**
   * The lease the run executes under (a server sharing its database with other replicas):
   * every state write of the run is fenced by it, and the first write the store drops
   * (another replica took the run over) gives the run up here, as RunHandle.abandon does.
   */
  fence?: RunFence;
}

/**
 * A run to continue after the process that ran it died: its durable records as they were.
 * Tasks that succeeded keep their results; tasks that were running get a new attempt
 * (or adopt the lost attempt's result when it finished and filed one).
 */
export interface ResumeRunOptions {
  ir: WorkflowIR;
  notebookText: string;
  workDir: string;
  run: RunRecord;
  tasks: TaskRunRecord[];
  /** The lease the run is resumed under (see StartRunOptions.fence). */
  fence?: RunFence;
}

/** A started run. */
export interface RunHandle {
  readonly runId: string;
  /** Resolves when the run ends, whatever its status; rejects only on infrastructure errors. */
  readonly done: Promise<RunSummary>;
  /** Stops running attempts, starts nothing new, and records the run as cancelled. */
  cancel(): void;
  /**
   * Gives the run up here because another replica owns it now: records nothing (no state,
   * no events, no executed notebook: the new owner owns the record), stops this process's
   * attempts (local processes are killed; pods are let go for the new owner to follow),
   * starts nothing new, and `done` rejects with a LeaseLostError carrying `reason`.
   */
  abandon(reason: string): void;
}

/** A line of task output, tagged with where it came from. */
export interface TaskLog {
  runId: string;
  task: string;
  attempt: number;
  /** The foreach element the attempt runs (its output is kept apart from other elements'). */
  element?: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * The orchestrator: ready-set scheduling over a workflow's DAG, caching, retries with
 * exponential backoff, timeouts and cancellation, with every state change recorded
 * durably and published as an event.
 */
export class Engine {
  private readonly options: EngineOptions;
  private readonly slots: Slots;
  private readonly concurrency: number;
  private readonly eventListeners = new Set<(e: RunEvent) => void>();
  private readonly logListeners = new Set<(l: TaskLog) => void>();

  constructor(options: EngineOptions) {
    this.options = options;
    this.concurrency = options.concurrency ?? os.cpus().length;
    this.slots = new Slots(this.concurrency);
  }

  /** Subscribes to run and task events; returns the unsubscribe function. */
  onEvent(listener: (e: RunEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Subscribes to task output as it is produced; returns the unsubscribe function. */
  onLog(listener: (l: TaskLog) => void): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  /**
   * Validates parameters, files the workflow and records the run, then starts it.
   * Bad parameters reject here, before any run is recorded or any task starts.
   */
  async startRun(request: StartRunOptions): Promise<RunHandle> {
    const { store, storeConfig, state, executor } = this.options;
    // Task processes start loading now, while the workflow is filed and the run recorded.
    executor.warm?.(storeConfig, this.concurrency);
    await publishWorkflow(store, request.ir, request.notebookText);
    const params = await resolveParams({
      ir: request.ir,
      overrides: request.params ?? {},
      store: storeConfig,
      workDir: request.workDir,
      taskEntry: this.options.taskEntry,
      check: executor.checkParams?.bind(executor)
    });
    await state.saveWorkflow({ version: request.ir.version, name: request.ir.name, notebookPath: request.notebookPath });
    const runId = request.runId ?? newRunId();
    const now = new Date().toISOString();
    const run: RunRecord = {
      id: runId,
      workflow: request.ir.name,
      version: request.ir.version,
      notebookPath: request.notebookPath,
      params,
      status: 'queued',
      executor: this.options.executor.name,
      createdAt: now,
      // Persisted with the run: a resume (restart, another replica) runs it as it was asked to.
      options: { ...(request.noCache ? { noCache: true } : {}), ...request.scheduled }
    };
    const tasks: TaskRunRecord[] = request.ir.tasks.map((t) => ({
      runId,
      task: t.name,
      status: 'pending',
      attempts: 0,
      cached: false,
      // Shared empties: the store only serializes them (10,000 tasks made 20,000 objects here).
      outputs: NONE,
      metrics: NO_METRICS
    }));
    await state.createRun(run, tasks);
    const execution = new RunExecution(this, this.options, this.slots, request, run);
    await this.publish({ runId, kind: 'run', status: 'queued', time: now }, request.fence);
    const done = execution.execute();
    return { runId, done, cancel: () => execution.cancel(), abandon: (reason) => execution.abandon(reason) };
  }

  /**
   * Continues a run left `queued` or `running` by a process that stopped without
   * finishing it. Records and events carry on where they were (same run id, event seq
   * continues), so clients following the run see one history.
   */
  async resumeRun(options: ResumeRunOptions): Promise<RunHandle> {
    const request: StartRunOptions = {
      ir: options.ir,
      notebookText: options.notebookText,
      notebookPath: options.run.notebookPath,
      workDir: options.workDir,
      params: options.run.params,
      noCache: options.run.options?.noCache,
      runId: options.run.id,
      fence: options.fence
    };
    const execution = new RunExecution(this, this.options, this.slots, request, { ...options.run }, options.tasks);
    const done = execution.execute();
    return { runId: options.run.id, done, cancel: () => execution.cancel(), abandon: (reason) => execution.abandon(reason) };
  }

  /** Records an event durably (fenced by the run's lease when given), then tells listeners. */
  async publish(event: Omit<RunEvent, 'seq'>, fence?: RunFence): Promise<void> {
    const full = await this.options.state.appendEvent(event, fence);
    for (const l of this.eventListeners) l(full);
  }

  /** Hands task output to listeners. */
  emitLog(log: TaskLog): void {
    for (const l of this.logListeners) l(log);
  }
}

/** How long a run's end is retried against a store refusing writes (locked, full). */
const STORE_RETRY_MS = 10 * 60_000;

/** Task retries: up to 1 s, 2 s, 4 s, ... capped at one minute. */
const DEFAULT_TASK_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 60_000 };

/** The empty list tasks share until they have outputs or downstream tasks (never pushed to: replaced). */
const NONE: never[] = [];

/** The metrics of a task that has none yet (never written to). */
const NO_METRICS: Metrics = {};

/** Per-task bookkeeping of one run. */
interface TaskState {
  ir: TaskIR;
  status: TaskStatus;
  attempts: number;
  outputs: OutputRef[];
  /** Upstream tasks not yet succeeded, cached or skipped (counted at the first pump). */
  unmet: number;
  /** The tasks that list this one upstream (NONE when none: most tasks of a wide DAG share it). */
  downstream: TaskState[];
  startedAtMs?: number;
  cancelAttempt?: () => void;
  /** Lets go of the running attempt when the run is given up (AttemptHandle.detach, else cancel). */
  releaseAttempt?: () => void;
  cancelBackoff?: () => void;
  /** A foreach task's running elements. */
  foreach?: ForeachRun;
  /** An attempt still alive after a restart, re-attached by the executor: followed before anything new starts. */
  recovered?: { handle: AttemptHandle; inputs: Record<string, ArtifactRef>; cacheKey: string };
  /** What the task's record says beyond status, attempts and outputs, as last written (see `remember`). */
  cached?: boolean;
  durationMs?: number;
  metrics?: Metrics;
  error?: TaskError;
  elements?: ElementCounts;
}

/**
 * Copies the fields of a task-record write that the run's summary and executed notebook
 * show into the task's bookkeeping, so the run's end builds them from memory instead of
 * reading every record back (10,000 records parsed twice each made the peak of a large run).
 * A field present with `undefined` clears it, as the write does.
 */
function remember(t: TaskState, patch: Partial<TaskRunRecord>): void {
  if ('cached' in patch) t.cached = patch.cached;
  if ('durationMs' in patch) t.durationMs = patch.durationMs;
  if ('metrics' in patch) t.metrics = patch.metrics;
  if ('error' in patch) t.error = patch.error;
  if ('elements' in patch) t.elements = patch.elements;
  if (patch.outputs !== undefined) t.outputs = patch.outputs;
}

/** One run in flight: the scheduling loop and its bookkeeping. */
class RunExecution {
  private readonly tasks = new Map<string, TaskState>();
  /** Each task's cell runs by task, in the order the tasks finished (a Map: finding a task's entry in a list cost O(tasks) per task). */
  private readonly cellRuns = new Map<string, { task: string; cached: boolean; cells: CellRun[] }>();
  private cancelled = false;
  private failed = false;
  /** Set when the run is given up here (its lease went to another replica): nothing more is written or started. */
  private lost: LeaseLostError | undefined;
  private active = 0;
  private finish!: () => void;
  /** Whether each task's `unmet` is counted: at the first pump, then kept by setTask, so scheduling costs O(edges), not O(tasks) per event. */
  private counted = false;
  /** Tasks given an attempt re-attached after a restart (`recovered`), not yet followed. */
  private recoveredTasks: TaskState[] = [];
  /** Pending tasks whose upstream tasks have all succeeded, in the order they became ready. */
  private ready: TaskState[] = [];
  /** Task records of a run being resumed after a restart (undefined for a fresh run). */
  private readonly resumed?: TaskRunRecord[];
  /** The stored encoding of `undefined`: what a none-failed task reads for a skipped upstream's outputs. */
  private undefinedRef?: ArtifactRef;

  constructor(
    private readonly engine: Engine,
    private readonly options: EngineOptions,
    private readonly slots: Slots,
    private readonly request: StartRunOptions,
    private readonly run: RunRecord,
    resumed?: TaskRunRecord[]
  ) {
    this.resumed = resumed;
    // Every field set from the start: one object shape for all tasks keeps the scheduling code monomorphic.
    for (const t of request.ir.tasks) {
      this.tasks.set(t.name, {
        ir: t,
        status: 'pending',
        attempts: 0,
        outputs: NONE,
        unmet: 0,
        downstream: NONE,
        startedAtMs: undefined,
        cancelAttempt: undefined,
        releaseAttempt: undefined,
        cancelBackoff: undefined,
        foreach: undefined,
        recovered: undefined,
        cached: undefined,
        durationMs: undefined,
        metrics: undefined,
        error: undefined,
        elements: undefined
      });
    }
    for (const t of this.tasks.values()) {
      for (const name of t.ir.upstream) {
        const u = this.tasks.get(name);
        if (u === undefined) continue;
        if (u.downstream === NONE) u.downstream = [t];
        else u.downstream.push(t);
      }
    }
  }

  async execute(): Promise<RunSummary> {
    if (this.resumed !== undefined) {
      await this.restore(this.resumed);
    } else {
      const startedAt = new Date().toISOString();
      await this.updateRun({ status: 'running', startedAt });
      this.run.startedAt = startedAt;
      await this.publish({ runId: this.run.id, kind: 'run', status: 'running', time: startedAt });
    }
    await new Promise<void>((resolve) => {
      this.finish = resolve;
      this.pump();
    });
    return this.finalize();
  }

  /**
   * Rebuilds bookkeeping from durable records after a restart. Finished tasks keep their
   * state and outputs (they are not run again); a task that was running lost its attempt:
   * its process group is stopped if it outlived the server, and its result is adopted if
   * it filed one before dying, else the task gets a fresh attempt.
   */
  private async restore(records: TaskRunRecord[]): Promise<void> {
    const lost: TaskRunRecord[] = [];
    const now = new Date().toISOString();
    const startedAt = this.run.startedAt ?? now;
    this.run.startedAt = startedAt;
    this.run.status = 'running';
    await this.updateRun({ status: 'running', startedAt });
    await this.publish({ runId: this.run.id, kind: 'run', status: 'running', time: now, message: 'resumed after a server restart' });
    for (const r of records) {
      const t = this.tasks.get(r.task);
      if (t === undefined) continue;
      t.attempts = r.attempts;
      remember(t, r);
      if (r.startedAt !== undefined) t.startedAtMs = Date.parse(r.startedAt);
      switch (r.status) {
        case 'succeeded':
        case 'cached':
          t.status = r.status;
          t.outputs = r.outputs;
          this.keepCells(r.task, await this.cellsOfRecord(r), r.status === 'cached');
          break;
        case 'failed':
          t.status = 'failed';
          this.failed = true;
          break;
        case 'cancelled':
          t.status = 'cancelled';
          this.cancelled = true;
          break;
        case 'skipped':
          t.status = 'skipped';
          break;
        case 'running':
        case 'retrying':
          // A foreach task starts over: elements that finished are found in the cache.
          if (t.ir.foreach !== undefined) t.status = 'pending';
          else lost.push(r);
          break;
        default:
          t.status = 'pending';
      }
    }
    // Upstream outputs are all known now: attempts in flight can be recovered with their inputs.
    for (const r of lost) await this.recoverLostAttempt(this.tasks.get(r.task) as TaskState, r);
  }

  /**
   * A task that was running when the previous process stopped: the executor re-attaches
   * to the attempt if it is still alive (a pod), else makes sure it is stopped; then its
   * result is adopted if it filed one, or the task gets a new attempt.
   */
  private async recoverLostAttempt(t: TaskState, r: TaskRunRecord): Promise<void> {
    if (r.attempts > 0) {
      const inputs = this.inputsOf(t.ir);
      const cacheKey = r.cacheKey ?? taskCacheKey(this.request.ir, t.ir, inputs, this.run.params, this.request.workDir);
      const spec = this.attemptSpec(t.ir, inputs, r.attempts);
      const handle = await this.options.executor.recoverAttempt(spec, this.logListener(t.ir.name, r.attempts));
      if (handle !== undefined) {
        t.recovered = { handle, inputs, cacheKey };
        this.recoveredTasks.push(t);
        await this.setTask(t, 'running', {}, `re-attached to attempt ${r.attempts} after a server restart`);
        return;
      }
      if (await this.adoptLostAttempt(t, r)) return;
    }
    t.status = 'pending';
    await this.setTask(t, 'retrying', {}, `attempt ${r.attempts} was lost when the server stopped; retrying`);
    t.status = 'pending';
  }

  /** Takes over the result a lost attempt filed before the server died, if it succeeded. */
  private async adoptLostAttempt(t: TaskState, r: TaskRunRecord): Promise<boolean> {
    const key = attemptKey(this.run.id, r.task, r.attempts, 'result.json');
    if (!(await this.options.store.hasFile(key))) return false;
    const result = TaskResult.safeParse(JSON.parse((await this.options.store.getFile(key)).toString('utf8')));
    if (!result.success || result.data.status !== 'succeeded') return false;
    for (const o of result.data.outputs) if (!(await this.options.store.hasBlob(o.hash))) return false;
    this.keepCells(r.task, result.data.cells);
    await this.succeed(t, result.data, r.cacheKey ?? taskCacheKey(this.request.ir, t.ir, this.inputsOf(t.ir), this.run.params, this.request.workDir));
    return true;
  }

  /** The executed-notebook cells of a task finished before a restart or in a reused run. */
  private async cellsOfRecord(r: TaskRunRecord): Promise<CellRun[]> {
    if (r.status === 'succeeded' && r.attempts > 0) return this.readCells(r.runId, r.task, r.attempts);
    if (r.cacheKey !== undefined) {
      const entry = await this.options.state.getCacheEntry(r.cacheKey);
      if (entry !== undefined) return this.readCells(entry.runId, r.task, entry.attempt);
    }
    return [];
  }

  /** Takes over a succeeded task of the run being retried, when its outputs are still stored. */
  private async tryReuse(t: TaskState): Promise<boolean> {
    const reuse = this.request.reuse;
    const record = reuse?.tasks.find((r) => r.task === t.ir.name && (r.status === 'succeeded' || r.status === 'cached'));
    if (reuse === undefined || record === undefined) return false;
    const declared = t.ir.outputs.map((o) => o.name).sort();
    if (JSON.stringify(record.outputs.map((o) => o.name).sort()) !== JSON.stringify(declared)) return false;
    for (const o of record.outputs) if (!(await this.options.store.hasBlob(o.hash))) return false;
    t.outputs = record.outputs;
    this.keepCells(t.ir.name, await this.cellsOfRecord(record), true);
    const now = new Date().toISOString();
    await this.setTask(
      t,
      'cached',
      { cached: true, outputs: record.outputs, metrics: record.metrics, finishedAt: now, durationMs: 0 },
      `reused from run ${reuse.fromRunId}`
    );
    return true;
  }

  /** See RunHandle.abandon. */
  abandon(reason: string): void {
    this.giveUp(new LeaseLostError(`run ${this.run.id} given up: ${reason}`));
  }

  private giveUp(lost: LeaseLostError): void {
    if (this.lost !== undefined) return;
    this.lost = lost;
    for (const t of this.tasks.values()) {
      t.releaseAttempt?.();
      t.recovered?.handle.detach?.();
      t.recovered = undefined;
      t.cancelBackoff?.();
    }
    // Ends the run here now: attempts let go of may never report (a pod another replica follows).
    this.finish?.();
  }

  /**
   * Every durable write of the run goes through here: none once the run is given up, and a
   * write the store refused for the lease (another replica holds it now) gives it up.
   */
  private async owned<T>(write: () => Promise<T>): Promise<T> {
    if (this.lost !== undefined) throw this.lost;
    try {
      return await write();
    } catch (err) {
      if (err instanceof LeaseLostError) this.giveUp(err);
      throw err;
    }
  }

  private updateRun(patch: Parameters<StateStore['updateRun']>[1]): Promise<void> {
    return this.owned(() => this.options.state.updateRun(this.run.id, patch, this.request.fence));
  }

  private publish(event: Omit<RunEvent, 'seq'>): Promise<void> {
    return this.owned(() => this.engine.publish(event, this.request.fence));
  }

  cancel(): void {
    if (this.cancelled || this.lost !== undefined) return;
    this.cancelled = true;
    for (const t of this.tasks.values()) {
      t.cancelAttempt?.();
      t.cancelBackoff?.();
    }
    this.pump();
  }

  /** Starts every task whose upstream tasks all finished well; ends the run when nothing is left to do. */
  private pump(): void {
    if (this.lost !== undefined) return;
    // Only the tasks re-attached after a restart: scanning every task here cost O(tasks) per finished task.
    const recoveredTasks = this.recoveredTasks;
    this.recoveredTasks = [];
    for (const t of recoveredTasks) {
      const recovered = t.recovered;
      if (recovered === undefined) continue;
      t.recovered = undefined;
      this.active += 1;
      void this.followRecovered(t, recovered)
        .catch((err: Error) => this.recordInfrastructureFailure(t, err))
        .finally(() => {
          this.active -= 1;
          this.pump();
        });
    }
    if (!this.counted) this.countUnmet();
    if (!this.cancelled && !this.failed) {
      const ready = this.ready;
      this.ready = [];
      for (const t of ready) {
        if (t.status !== 'pending') continue;
        t.status = 'queued';
        this.active += 1;
        const skippedBy = this.skippedUpstream(t);
        void (skippedBy !== undefined ? this.skipTask(t, skippedBy) : this.runTask(t))
          .catch((err: Error) => this.recordInfrastructureFailure(t, err))
          .finally(() => {
            this.active -= 1;
            this.pump();
          });
      }
    }
    if (this.active === 0) this.finish?.();
  }

  /**
   * The skipped upstream task that skips this one too (trigger `all-succeeded`, or the
   * upstream holding a foreach list), or undefined when the task runs.
   */
  private skippedUpstream(t: TaskState): string | undefined {
    const skipped = t.ir.upstream.filter((u) => this.tasks.get(u)?.status === 'skipped');
    if ((t.ir.trigger ?? 'all-succeeded') === 'all-succeeded') return skipped[0];
    return skipped.find((u) => u === t.ir.foreach?.from);
  }

  private async skipTask(t: TaskState, upstream: string): Promise<void> {
    await this.setTask(t, 'skipped', this.finishedFields(t), `upstream task ${upstream} was skipped`);
  }

  /** Counts each task's unfinished upstream tasks from the statuses as they are (fresh, or restored after a restart). */
  private countUnmet(): void {
    for (const t of this.tasks.values()) {
      let n = 0;
      for (const u of t.ir.upstream) if (!releasesDownstream(this.tasks.get(u)?.status)) n += 1;
      t.unmet = n;
      if (n === 0 && t.status === 'pending') this.ready.push(t);
    }
    this.counted = true;
  }

  /** A task succeeded, was cached or was skipped: its downstream tasks have one upstream less to wait for. */
  private release(t: TaskState): void {
    if (!this.counted) return;
    for (const d of t.downstream) {
      d.unmet -= 1;
      if (d.unmet === 0 && d.status === 'pending') this.ready.push(d);
    }
  }

  private async runTask(t: TaskState): Promise<void> {
    if (t.ir.upstream.some((u) => this.tasks.get(u)?.status === 'skipped')) {
      this.undefinedRef ??= await this.options.store.putBlob(Buffer.from(ENCODED_UNDEFINED, 'utf8'));
    }
    if (t.ir.foreach !== undefined) return this.runForeachTask(t);
    const inputs = this.inputsOf(t.ir);
    const cacheKey = taskCacheKey(this.request.ir, t.ir, inputs, this.run.params, this.request.workDir);
    await this.setTask(t, 'queued', { cacheKey });
    if (await this.tryReuse(t)) return;
    if (t.ir.policy.cache && !this.request.noCache && (await this.tryCache(t, cacheKey))) return;
    const release = await this.slots.acquire();
    try {
      await this.attemptUntilDone(t, inputs, cacheKey);
    } finally {
      release();
    }
  }

  /** Follows an attempt re-attached after a restart to its end, holding a slot like any attempt. */
  private async followRecovered(t: TaskState, recovered: NonNullable<TaskState['recovered']>): Promise<void> {
    const release = await this.slots.acquire();
    try {
      await this.attemptUntilDone(t, recovered.inputs, recovered.cacheKey, recovered.handle);
    } finally {
      release();
    }
  }

  /**
   * A foreach task: one attempt per element of its list (see foreach.ts), element counts
   * persisted with the task record, and each element's record in the store
   * (element-records.ts), at most once a second and when the task ends.
   */
  private async runForeachTask(t: TaskState): Promise<void> {
    const spec = t.ir.foreach;
    if (spec === undefined) throw new Error(`internal: task ${t.ir.name} is not a foreach task`);
    const list = this.tasks.get(spec.from)?.outputs.find((o) => o.name === spec.over);
    if (list === undefined) throw new Error(`task ${spec.from} finished without its output ${spec.over}, which foreach task ${t.ir.name} needs`);
    const common = this.inputsOf({ ...t.ir, inputs: t.ir.inputs.filter((p) => p.elementOf === undefined) });
    const useCache = t.ir.policy.cache;
    // Elements may share processes (executors that batch them): one key per task of a run.
    const batch = `${this.run.id}/${t.ir.name}`;
    let lastWrite = 0;
    let pending: Promise<void> = Promise.resolve();
    // A change inside the second after a write is written when that second ends (with the
    // counts then): dropped, an element that started would show `pending`, with no attempt
    // whose live log could be read, until some other element changed state.
    let trailing: NodeJS.Timeout | undefined;
    const persist = (elements: ElementCounts) => {
      lastWrite = Date.now();
      pending = pending.then(() => this.persistElements(t.ir.name, run, elements)).catch(() => undefined);
    };
    const run = new ForeachRun(
      {
        store: this.options.store,
        slots: this.slots,
        backoff: this.options.backoff ?? DEFAULT_TASK_BACKOFF,
        readCache: useCache && !this.request.noCache,
        writeCache: useCache,
        cacheKey: (inputs) => taskCacheKey(this.request.ir, t.ir, inputs, this.run.params, this.request.workDir),
        getCacheEntry: (key) => this.options.state.getCacheEntry(key),
        putCacheEntry: (entry) => this.options.state.putCacheEntry(entry),
        attemptSpec: (inputs, attempt, element) => {
          const spec = this.attemptSpec(t.ir, inputs, attempt);
          return { ...spec, invocation: { ...spec.invocation, element }, batch };
        },
        launch: (spec, onLog) => this.options.executor.launch(spec, onLog),
        logListener: (attempt, element) => this.logListener(t.ir.name, attempt, element),
        runId: this.run.id,
        stopped: () => this.failed || this.cancelled,
        onProgress: (elements) => {
          const wait = lastWrite + 1000 - Date.now();
          if (wait <= 0 || elements.running + elements.pending === 0) {
            clearTimeout(trailing);
            trailing = undefined;
            persist(elements);
          } else {
            trailing ??= setTimeout(() => {
              trailing = undefined;
              persist(run.counts());
            }, wait);
          }
        }
      },
      t.ir,
      spec
    );
    t.foreach = run;
    t.cancelAttempt = () => run.cancel();
    t.attempts = 1;
    t.startedAtMs ??= Date.now();
    await this.setTask(t, 'running', { attempts: 1, startedAt: new Date(t.startedAtMs).toISOString() });
    const outcome = await run.run(list, common).finally(() => {
      clearTimeout(trailing);
      this.options.executor.endBatch?.(batch);
    });
    t.cancelAttempt = undefined;
    await pending;
    await writeElementRecords(this.options.store, this.run.id, t.ir.name, run.elements());
    this.keepCells(t.ir.name, outcome.cells);
    const elements = outcome.counts;
    if (outcome.status === 'failed') {
      this.failed = true;
      await this.setTask(t, 'failed', { error: outcome.error, elements, ...this.finishedFields(t) }, outcome.error.message);
    } else if (outcome.status === 'cancelled') {
      await this.setTask(t, 'cancelled', { elements, ...this.finishedFields(t) });
    } else {
      t.outputs = outcome.outputs;
      const message = `${elements.total} elements: ${elements.succeeded} succeeded, ${elements.cached} cached, ${elements.failed} failed`;
      await this.setTask(t, outcome.status, { outputs: outcome.outputs, cached: outcome.status === 'cached', elements, error: undefined, ...this.finishedFields(t) }, message);
    }
  }

  private async persistElements(task: string, run: ForeachRun, elements: ElementCounts): Promise<void> {
    await this.options.state.updateTaskRun(this.run.id, task, { elements });
    await writeElementRecords(this.options.store, this.run.id, task, run.elements());
  }

  /** What the executor gets for one attempt of a task. */
  private attemptSpec(ir: TaskIR, inputs: Record<string, ArtifactRef>, attempt: number): AttemptSpec {
    return {
      invocation: {
        runId: this.run.id,
        task: ir.name,
        attempt,
        workflowVersion: this.request.ir.version,
        workDir: this.request.workDir,
        inputs,
        outputTypes: Object.fromEntries(ir.outputs.map((o) => [o.name, o.type])),
        params: this.run.params,
        store: this.options.storeConfig
      },
      timeoutMs: ir.policy.timeoutSeconds !== undefined ? ir.policy.timeoutSeconds * 1000 : undefined,
      env: ir.policy.env,
      resources: ir.policy.resources,
      workflow: this.request.ir.name,
      policy: ir.policy,
      image: this.request.ir.image
    };
  }

  private logListener(task: string, attempt: number, element?: number): (stream: 'stdout' | 'stderr', text: string) => void {
    return (stream, text) => this.engine.emitLog({ runId: this.run.id, task, attempt, ...(element !== undefined ? { element } : {}), stream, text });
  }

  private inputsOf(task: TaskIR): Record<string, ArtifactRef> {
    const inputs: Record<string, ArtifactRef> = {};
    for (const port of task.inputs) {
      const producer = this.tasks.get(port.from);
      if (producer?.status === 'skipped' && this.undefinedRef !== undefined) {
        inputs[port.name] = this.undefinedRef;
        continue;
      }
      const ref = producer?.outputs.find((o) => o.name === port.name);
      if (ref === undefined) throw new Error(`task ${port.from} finished without its output ${port.name}, which ${task.name} needs`);
      inputs[port.name] = { hash: ref.hash, size: ref.size };
    }
    return inputs;
  }

  /** Reuses a cached result when every output it names is still in the store. */
  private async tryCache(t: TaskState, cacheKey: string): Promise<boolean> {
    const entry = await this.options.state.getCacheEntry(cacheKey);
    if (entry === undefined) return false;
    for (const o of entry.outputs) if (!(await this.options.store.hasBlob(o.hash))) return false;
    t.outputs = entry.outputs;
    const cells = await this.readCells(entry.runId, t.ir.name, entry.attempt);
    this.keepCells(t.ir.name, cells, true);
    const now = new Date().toISOString();
    await this.setTask(t, 'cached', { cached: true, outputs: entry.outputs, metrics: entry.metrics, finishedAt: now, durationMs: 0 }, `from run ${entry.runId}`);
    return true;
  }

  private async attemptUntilDone(t: TaskState, inputs: Record<string, ArtifactRef>, cacheKey: string, recovered?: AttemptHandle): Promise<void> {
    const { ir } = t;
    let followed = recovered;
    for (;;) {
      let handle: AttemptHandle;
      if (followed !== undefined) {
        // An attempt that survived a restart: follow it instead of starting a new one.
        handle = followed;
        followed = undefined;
        if (this.cancelled) handle.cancel();
      } else {
        // After a cancel or another task's failure nothing new starts (a retry counts as new).
        if (this.lost !== undefined) throw this.lost;
        if (this.cancelled || this.failed) {
          await this.setTask(t, t.attempts > 0 ? (this.cancelled ? 'cancelled' : 'failed') : 'skipped', this.finishedFields(t));
          return;
        }
        t.attempts += 1;
        t.startedAtMs ??= Date.now();
        await this.setTask(t, 'running', { attempts: t.attempts, startedAt: new Date(t.startedAtMs).toISOString() });
        // Given up while the write went through: start nothing.
        if (this.lost !== undefined) throw this.lost;
        handle = this.options.executor.launch(this.attemptSpec(ir, inputs, t.attempts), this.logListener(ir.name, t.attempts));
      }
      t.cancelAttempt = handle.cancel;
      t.releaseAttempt = handle.detach ?? handle.cancel;
      const outcome = await handle.done;
      t.cancelAttempt = undefined;
      t.releaseAttempt = undefined;
      const result: TaskResult | undefined = outcome.kind === 'reported' ? outcome.result : undefined;
      if (result) this.keepCells(ir.name, result.cells);
      if (result?.status === 'succeeded') {
        await this.succeed(t, result, cacheKey);
        return;
      }
      if (result?.status === 'skipped') {
        await this.setTask(t, 'skipped', { error: undefined, ...this.finishedFields(t) }, `condition false: ${ir.when ?? ''}`);
        return;
      }
      const error: TaskError = result?.error ?? (outcome.kind === 'lost' ? outcome.error : { name: 'Error', message: 'task failed', kind: 'error' });
      if (this.cancelled || error.kind === 'cancelled') {
        await this.setTask(t, 'cancelled', { error, ...this.finishedFields(t) });
        return;
      }
      if (t.attempts <= ir.policy.retries) {
        await this.setTask(t, 'retrying', { error }, `attempt ${t.attempts} failed: ${error.message}`);
        await this.sleep(t, backoffDelay(this.options.backoff ?? DEFAULT_TASK_BACKOFF, t.attempts));
        continue;
      }
      this.failed = true;
      await this.setTask(t, 'failed', { error, ...this.finishedFields(t) }, error.message);
      return;
    }
  }

  private async succeed(t: TaskState, result: TaskResult, cacheKey: string): Promise<void> {
    t.outputs = result.outputs;
    if (t.ir.policy.cache) {
      // Not fenced in the database (an entry is a content-addressed result, true whoever
      // files it), but never written once the run is given up.
      await this.owned(() => this.options.state.putCacheEntry({
        key: cacheKey,
        task: t.ir.name,
        outputs: result.outputs,
        metrics: result.metrics,
        runId: this.run.id,
        attempt: t.attempts,
        createdAt: new Date().toISOString()
      }));
    }
    await this.setTask(t, 'succeeded', { outputs: result.outputs, metrics: result.metrics, error: undefined, ...this.finishedFields(t) });
  }

  private finishedFields(t: TaskState): { finishedAt: string; durationMs: number } {
    const now = Date.now();
    return { finishedAt: new Date(now).toISOString(), durationMs: t.startedAtMs !== undefined ? now - t.startedAtMs : 0 };
  }

  /** Only the last attempt's cells count: a retry replaces what a failed attempt showed. */
  private keepCells(task: string, cells: CellRun[], cached = false): void {
    // Deleted first so the task moves to the end: the order is the order tasks finished.
    this.cellRuns.delete(task);
    // A task that reported no cells shows nothing in the executed notebook: no entry to hold.
    if (cells.length > 0) this.cellRuns.set(task, { task, cached, cells });
  }

  private async readCells(runId: string, task: string, attempt: number): Promise<CellRun[]> {
    const key = attemptKey(runId, task, attempt, 'result.json');
    if (!(await this.options.store.hasFile(key))) return [];
    return TaskResult.parse(JSON.parse((await this.options.store.getFile(key)).toString('utf8'))).cells;
  }

  /** Waits out a retry backoff, cut short by cancellation. */
  private sleep(t: TaskState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        t.cancelBackoff = undefined;
        resolve();
      }
      t.cancelBackoff = done;
    });
  }

  private async recordInfrastructureFailure(t: TaskState, err: Error): Promise<void> {
    // A run given up here is not failed: its new owner carries on.
    if (this.lost !== undefined || err instanceof LeaseLostError) return;
    this.failed = true;
    const error: TaskError = { name: err.name, message: err.message, kind: 'infrastructure', stack: err.stack };
    await this.persistently(() => this.setTask(t, 'failed', { error, ...this.finishedFields(t) }, err.message)).catch(() => undefined);
  }

  /**
   * Retries a write the state or artifact store refused for a passing reason (database
   * locked past its busy timeout, disk full) until it goes through, so a run's end is
   * recorded once the fault clears instead of the run staying `running` until a restart.
   * Gives up after STORE_RETRY_MS, or at once on cancel (a draining server): the run is
   * then left for the next start to resume.
   */
  private persistently<T>(write: () => Promise<T>): Promise<T> {
    return retry(write, {
      attempts: Infinity,
      deadlineMs: STORE_RETRY_MS,
      baseMs: 250,
      maxMs: 5000,
      retryable: (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        return !this.cancelled && this.lost === undefined && (err instanceof StateError || code === 'ENOSPC' || code === 'EDQUOT');
      }
    });
  }


  private async setTask(t: TaskState, status: TaskStatus, patch: Partial<TaskRunRecord>, message?: string): Promise<void> {
    const changed = t.status !== status || status === 'running';
    if (releasesDownstream(status) && !releasesDownstream(t.status)) {
      t.status = status;
      this.release(t);
    }
    t.status = status;
    await this.owned(() => this.options.state.updateTaskRun(this.run.id, t.ir.name, { ...patch, status }, this.request.fence));
    remember(t, patch);
    if (changed || status === 'queued') {
      await this.publish({
        runId: this.run.id,
        kind: 'task',
        task: t.ir.name,
        status,
        attempt: t.attempts > 0 ? t.attempts : undefined,
        message,
        time: new Date().toISOString()
      });
    }
  }

  /** The run's task records as written, in the workflow's task order, from the bookkeeping (see `remember`). */
  private taskRecords(): TaskRunRecord[] {
    const records: TaskRunRecord[] = [];
    for (const t of this.tasks.values()) {
      records.push({
        runId: this.run.id,
        task: t.ir.name,
        status: t.status,
        attempts: t.attempts,
        cached: t.cached ?? false,
        durationMs: t.durationMs,
        outputs: t.outputs,
        metrics: t.metrics ?? {},
        error: t.error,
        // A foreach task ended by an infrastructure error: the counts as they were (its record has them at most a second old).
        elements: t.elements ?? t.foreach?.counts()
      });
    }
    return records;
  }

  private async finalize(): Promise<RunSummary> {
    if (this.lost !== undefined) throw this.lost;
    for (const t of this.tasks.values()) {
      if (t.status === 'pending' || t.status === 'queued') await this.persistently(() => this.setTask(t, 'skipped', {}));
    }
    const status: RunRecord['status'] = this.cancelled ? 'cancelled' : this.failed ? 'failed' : 'succeeded';
    const finishedAt = new Date().toISOString();
    const failedTask = [...this.tasks.values()].find((t) => t.status === 'failed');
    const error = status === 'failed' && failedTask ? `task ${failedTask.ir.name} failed` : status === 'cancelled' ? 'cancelled' : undefined;
    const { state, store } = this.options;
    const key = executedNotebookKey(this.run.id);
    Object.assign(this.run, { status, finishedAt, error, executedNotebook: key });
    const taskRecords = this.taskRecords();
    const executed = buildExecutedNotebook({
      notebook: Notebook.parse(JSON.parse(this.request.notebookText)),
      ir: this.request.ir,
      run: this.run,
      tasks: taskRecords,
      cellRuns: [...this.cellRuns.values()]
    });
    // The run's outcome is recorded even when the artifact store is gone for good: only the
    // executed notebook is missing then, and the run's error says why.
    let executedKey: string | undefined = key;
    let runError = error;
    // The executed notebook is not in the database: check the lease just before writing it,
    // so a replica given up meanwhile does not overwrite the new owner's.
    const fence = this.request.fence;
    if (fence !== undefined) await this.owned(() => state.assertFence(this.run.id, fence));
    try {
      await this.persistently(() => this.owned(() => store.putFile(key, JSON.stringify(executed, null, 1))));
    } catch (err) {
      executedKey = undefined;
      runError = [error, `the executed notebook could not be written: ${(err as Error).message}`].filter(Boolean).join('; ');
      Object.assign(this.run, { error: runError, executedNotebook: undefined });
    }
    await this.persistently(() => this.updateRun({ status, finishedAt, error: runError, executedNotebook: executedKey }));
    await this.persistently(() => this.publish({ runId: this.run.id, kind: 'run', status, time: finishedAt, message: runError }));
    return summarizeRun(this.run, taskRecords, this.request.ir, executedKey === undefined ? undefined : (store.localPath(executedKey) ?? executedKey));
  }
}

/** The `cellgraph run --json` document for a run. */
export function summarizeRun(run: RunRecord, tasks: TaskRunRecord[], ir: WorkflowIR, executedNotebook?: string): RunSummary {
  const reasons = skipReasons(ir, tasks, run.status);
  const started = run.startedAt ? Date.parse(run.startedAt) : undefined;
  const finished = run.finishedAt ? Date.parse(run.finishedAt) : undefined;
  const declaredOutputs = new Map(ir.tasks.map((t) => [t.name, t.outputs]));
  // Built, not parsed: every field comes from typed records, and a zod parse of a 10,000-task
  // summary allocated ~56 MiB at the run's end. Readers parse it at their own boundary.
  return {
    runId: run.id,
    workflow: run.workflow,
    version: run.version,
    status: run.status,
    params: run.params as Record<string, JsonValue>,
    durationMs: started !== undefined && finished !== undefined ? finished - started : undefined,
    executedNotebook,
    tasks: tasks.map((t) => {
      const declared = declaredOutputs.get(t.task) ?? [];
      return {
        name: t.task,
        status: t.status,
        attempts: t.attempts,
        cached: t.cached,
        durationMs: t.durationMs,
        outputs: t.outputs.length > 0 ? t.outputs.map((o) => ({ name: o.name, type: o.type })) : declared,
        metrics: t.metrics,
        error: t.error?.message,
        ...(t.elements !== undefined ? { elements: t.elements } : {}),
        ...(reasons.has(t.task) ? { skipReason: reasons.get(t.task) } : {}),
        errorAt: t.error?.cell !== undefined ? { cell: t.error.cell, ...(t.error.line !== undefined ? { line: t.error.line } : {}) } : undefined
      };
    })
  };
}

/** A task in this status no longer holds its downstream tasks back (a skipped one's decide by their trigger rule). */
function releasesDownstream(status: TaskStatus | undefined): boolean {
  return status === 'succeeded' || status === 'cached' || status === 'skipped';
}
