import * as path from 'node:path';
import {
  JsonValue,
  Notebook,
  RunDetail,
  RunListItem,
  RunLogsResponse,
  RunRecord,
  RunStatus,
  TaskElementsResponse,
  TaskOutputsResponse,
  type ElementsQuery,
  type TaskRunRecord,
  WorkflowIR,
  WorkflowTypesResponse
} from '@cellgraph/schema';
import { outputDeclarations } from '../compiler/output-types';
import { Engine, RunHandle, StartRunOptions, summarizeRun } from '../engine/engine';
import { parseParamAssignments } from '../engine/params';
import { newRunId } from '../engine/run-id';
import { notebookKey } from '../engine/workflow-files';
import { readElementRecords } from '../engine/element-records';
import { readFiledAttemptLog } from '../executors/attempt-log';
import { admitRun } from '../auth/projects';
import { ConflictError, LeaseLostError, NotFoundError, UnavailableError, ValidationError } from '../errors';
import type { LeaseClaim } from '../state/coordination';
import type { RunFence } from '../state/state-store';
import type { RunWebhook } from '../state/notification-store';
import type { ServerStateStore } from '../state/open-state-store';
import type { ArtifactStore } from '../stores';
import { runDurationMs, runMetrics, runTrigger, taskSpans } from './run-facts';
import { IrCache } from './ir-cache';
import { LiveLogs, sharedLogTask } from './live-logs';
import { RunLeases } from './run-leases';

/** What a run is started from, once the notebook is compiled (or a version is loaded). */
export interface LaunchRequest {
  ir: WorkflowIR;
  notebookText: string;
  /** Absolute path; its directory is where tasks run. */
  notebookPath: string;
  params?: Record<string, JsonValue>;
  paramAssignments?: string[];
  noCache?: boolean;
  /**
   * The run's id, when the caller derives it (a schedule: schedule + fire time); a new
   * unique id otherwise. An id that exists already makes the launch fail, nothing started.
   */
  runId?: string;
  /** Notified when the run succeeds or fails; recorded before it starts, so a restart keeps them. */
  webhooks?: RunWebhook[];
  /** A scheduled run's fire instant and lateness, recorded with the run. */
  scheduled?: StartRunOptions['scheduled'];
  /** The run's project (default: a retry's original's, else its workflow's, else `default`). */
  project?: string;
}

/** How often live output of running attempts is written for other replicas. */
const LIVE_LOG_FLUSH_MS = 1000;

/** How long cancel waits for a run to wind down before answering with its current state. */
const CANCEL_WAIT_MS = 10_000;

/**
 * Runs on the server: starts them on the shared engine, keeps the handles of runs in
 * flight, answers queries from durable state, resumes what a previous process left
 * unfinished, and drains on shutdown. Routes stay thin: they parse, call this, answer.
 */
export class RunService {
  private readonly active = new Map<string, RunHandle>();
  /** The lease of each run executing or being started here, which its writes are fenced by. */
  private readonly fences = new Map<string, RunFence>();
  private readonly liveLogs = new LiveLogs();
  private draining = false;
  /** Who runs what among replicas: each run in flight here is leased to this process. */
  readonly leases: RunLeases;
  private logFlush: NodeJS.Timeout | undefined;
  private readonly log: (line: string) => void;

  constructor(
    private readonly engine: Engine,
    private readonly store: ArtifactStore,
    private readonly state: ServerStateStore,
    readonly irs: IrCache,
    /** Readies a workflow for the executor before it runs (Kubernetes: build and push its image, bind it). */
    private readonly prepare: (req: LaunchRequest) => Promise<WorkflowIR> = async (req) => req.ir,
    replica: { owner: string; ttlMs?: number; heartbeatMs?: number; log?: (line: string) => void } = { owner: 'local' }
  ) {
    engine.onLog(this.liveLogs.listener);
    const log = replica.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    this.log = log;
    this.leases = new RunLeases({
      coordination: state.coordination,
      owner: replica.owner,
      ttlMs: replica.ttlMs,
      heartbeatMs: replica.heartbeatMs,
      active: () => [...this.fences].map(([runId, f]) => ({ runId, epoch: f.epoch })),
      adopt: async (claims) => void (await this.resume(claims)),
      giveUp: (ids, reason) => ids.forEach((id) => this.giveUp(id, reason)),
      cancel: (ids) => ids.forEach((id) => this.requestCancel(id)),
      log
    });
    if (state.coordination.shared) {
      // Other replicas read live output from the database: write what changed once a second.
      this.logFlush = setInterval(() => void this.flushLiveLogs().catch((err: Error) => log(`cellgraph server: live logs not shared: ${err.message}`)), LIVE_LOG_FLUSH_MS);
      this.logFlush.unref();
    }
  }

  /** True once shutdown began: new runs are refused. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Runs this process is executing now. */
  get inFlight(): number {
    return this.active.size;
  }

  /** Starts a run and answers with its first state; bad parameters reject before anything is recorded. */
  async launch(req: LaunchRequest, extra: { retryOf?: string; reuse?: Parameters<Engine['startRun']>[0]['reuse'] } = {}): Promise<RunDetail> {
    if (this.draining) throw new UnavailableError('the server is shutting down; no new runs');
    const params = { ...parseParamAssignments(req.ir.params, req.paramAssignments ?? []), ...(req.params ?? {}) };
    const runId = req.runId ?? newRunId();
    // Leased before the run is recorded: no other replica may take it for an orphan.
    const fence = await this.leases.acquire(runId);
    if (fence === undefined) throw new ConflictError(`run ${runId} is being started by another replica`);
    // Renewed by the heartbeat while it starts (preparing an image can take minutes).
    const starting = !this.fences.has(runId);
    if (starting) this.fences.set(runId, fence);
    const webhooks = req.webhooks ?? [];
    // Recorded first: a run that finishes at once must still find whom to notify.
    if (webhooks.length > 0) await this.state.addRunWebhooks(runId, webhooks);
    let handle: RunHandle;
    try {
      // Recorded before the run exists, so it is never visible in another project.
      await admitRun({ identity: this.state.identity, state: this.state }, { runId, workflow: req.ir.name, tasks: req.ir.tasks }, { project: req.project, retryOf: extra.retryOf });
      const ir = await this.prepare(req);
      handle = await this.engine.startRun({
        ir,
        notebookText: req.notebookText,
        notebookPath: req.notebookPath,
        workDir: path.dirname(req.notebookPath),
        params,
        noCache: req.noCache,
        scheduled: req.scheduled,
        reuse: extra.reuse,
        runId,
        fence
      });
    } catch (err) {
      if (starting) this.fences.delete(runId);
      // Nothing started; keep the lease and URLs only if the id belongs to a run that exists already.
      if (!(await this.exists(runId))) {
        await this.leases.release(runId);
        if (webhooks.length > 0) await this.state.deleteRunWebhooks(runId);
      }
      throw err;
    }
    this.track(handle, fence);
    if (extra.retryOf !== undefined) await this.state.setRetryOf(handle.runId, extra.retryOf);
    return this.detail(handle.runId);
  }

  /** Whether a run with this id was ever recorded (by this process or an earlier one). */
  async exists(id: string): Promise<boolean> {
    try {
      await this.state.getRun(id);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /**
   * Asks a run in flight to stop and returns at once (the scheduler's `Replace` does not
   * wait for the old run to wind down). False when this process is not running it.
   */
  requestCancel(id: string): boolean {
    const handle = this.active.get(id);
    if (handle === undefined) return false;
    handle.cancel();
    return true;
  }

  /**
   * Like requestCancel, for a run that may be executing on another replica: there the
   * request goes through the database to the replica holding its lease (the scheduler's
   * `Replace` across replicas).
   */
  async requestCancelAnywhere(id: string): Promise<void> {
    if (this.requestCancel(id) || !this.state.coordination.shared) return;
    await this.state.coordination.requestCancel(id);
  }

  private track(handle: RunHandle, fence: RunFence): void {
    this.active.set(handle.runId, handle);
    this.fences.set(handle.runId, fence);
    let lost = false;
    handle.done
      .catch((err: Error) => {
        if (!(err instanceof LeaseLostError)) {
          process.stderr.write(`cellgraph server: run ${handle.runId} stopped on an infrastructure error: ${err.stack ?? err.message}\n`);
          return;
        }
        lost = true;
        this.log(`cellgraph server: gave up run ${handle.runId}: ${err.message}; stopped here without recording anything (the replica holding its lease runs it)`);
      })
      .finally(() => {
        // A run given up and adopted back by this process runs under a new handle: leave that one be.
        if (this.active.get(handle.runId) !== handle) return;
        this.active.delete(handle.runId);
        this.fences.delete(handle.runId);
        this.liveLogs.dropRun(handle.runId);
        // The lease and the shared live output are the new owner's now.
        if (!lost) void this.forgetRun(handle.runId);
      });
  }

  /**
   * Stops a run here that another replica owns now (this process stalled past its lease,
   * or could not renew it): its attempts are stopped or let go, nothing is recorded, and it
   * no longer counts as running here, so this process may adopt it again later.
   */
  private giveUp(runId: string, reason: string): void {
    const handle = this.active.get(runId);
    this.fences.delete(runId);
    if (handle === undefined) {
      this.log(`cellgraph server: gave up starting run ${runId}: ${reason}`);
      return;
    }
    this.active.delete(runId);
    this.liveLogs.dropRun(runId);
    handle.abandon(reason);
  }

  /** A run ended here: its lease and its shared live output go (the store has every log). */
  private async forgetRun(runId: string): Promise<void> {
    try {
      await this.leases.release(runId);
      if (this.state.coordination.shared) await this.state.coordination.forgetRun(runId);
    } catch (err) {
      process.stderr.write(`cellgraph server: could not release run ${runId} (its lease expires by itself): ${(err as Error).message}\n`);
    }
  }

  /** Writes the live output that changed since the last flush, for replicas serving logs of runs they do not run. */
  private async flushLiveLogs(): Promise<void> {
    for (const { runId, task, attempt, element, text } of this.liveLogs.takeChanged()) {
      if (this.active.has(runId)) await this.state.coordination.putAttemptLog(runId, sharedLogTask(task, element), attempt, text);
    }
  }

  /** The run with per-task state. Throws NotFoundError for an unknown id. */
  async detail(id: string): Promise<RunDetail> {
    const run = await this.state.getRun(id);
    const tasks = await this.state.getTaskRuns(id);
    const ir = await this.irs.get(run.version);
    const executed = run.executedNotebook !== undefined ? (this.store.localPath(run.executedNotebook) ?? run.executedNotebook) : undefined;
    const summary = summarizeRun(run, tasks, ir, executed);
    const retryOf = await this.state.getRetryOf(id);
    const spans = taskSpans(await this.state.listEvents(id), run.finishedAt);
    return RunDetail.parse({
      ...summary,
      notebookPath: run.notebookPath,
      executor: run.executor,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      error: run.error,
      retryOf,
      options: run.options,
      ...runTrigger(run, retryOf),
      metrics: runMetrics(tasks),
      taskDetails: tasks.map((t) => ({ name: t.task, startedAt: t.startedAt, finishedAt: t.finishedAt, cacheKey: t.cacheKey, spans: spans.get(t.task) ?? [] }))
    });
  }

  async list(options: { limit?: number; status?: RunStatus; workflow?: string }): Promise<RunListItem[]> {
    const runs = await this.state.listRuns({ limit: options.limit ?? 50, status: options.status, workflow: options.workflow });
    const items: RunListItem[] = [];
    for (const run of runs) {
      const tasks = await this.state.getTaskRuns(run.id);
      const retryOf = await this.state.getRetryOf(run.id);
      const durationMs = runDurationMs(run);
      items.push({
        ...run,
        done: tasks.filter((t) => t.status === 'succeeded' || t.status === 'cached').length,
        total: tasks.length,
        cached: tasks.filter((t) => t.status === 'cached').length,
        ...runTrigger(run, retryOf),
        ...(retryOf !== undefined ? { retryOf } : {}),
        ...(durationMs !== undefined ? { durationMs } : {}),
        metrics: runMetrics(tasks)
      });
    }
    return items;
  }

  /**
   * Cancels a run in flight and waits (briefly) for it to wind down. A run another replica
   * executes is cancelled there: the request goes through the database and this waits for
   * the run's end to be recorded.
   */
  async cancel(id: string): Promise<RunDetail> {
    const run = await this.state.getRun(id);
    const handle = this.active.get(id);
    const unfinished = run.status === 'queued' || run.status === 'running';
    if (handle === undefined && unfinished && this.state.coordination.shared) {
      await this.state.coordination.requestCancel(id);
      for (const end = Date.now() + CANCEL_WAIT_MS; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
        const now = await this.state.getRun(id);
        if (now.status !== 'queued' && now.status !== 'running') break;
      }
      return this.detail(id);
    }
    if (handle === undefined) throw new ConflictError(`run ${id} is ${run.status}; only a queued or running run can be cancelled`);
    handle.cancel();
    await Promise.race([handle.done.catch(() => undefined), new Promise((r) => setTimeout(r, CANCEL_WAIT_MS).unref())]);
    return this.detail(id);
  }

  /**
   * Re-runs a failed or cancelled run as a new run of the same workflow version and
   * parameters, taking over every task that succeeded (Metaflow's resume): only failed,
   * cancelled and skipped tasks run again.
   */
  async retry(id: string, options: { noCache?: boolean }): Promise<RunDetail> {
    const run = await this.state.getRun(id);
    if (run.status !== 'failed' && run.status !== 'cancelled') throw new ConflictError(`run ${id} is ${run.status}; only a failed or cancelled run can be retried`);
    const ir = await this.irs.get(run.version);
    const notebookText = (await this.store.getFile(notebookKey(run.version))).toString('utf8');
    const tasks = await this.state.getTaskRuns(id);
    // A retry notifies whoever the original run notified (a failed scheduled run's retry tells the schedule's webhook).
    const webhooks = await this.state.getRunWebhooks(id);
    return this.launch(
      { ir, notebookText, notebookPath: run.notebookPath, params: run.params, noCache: options.noCache, webhooks },
      { retryOf: id, reuse: { fromRunId: id, tasks } }
    );
  }

  /** Every attempt's output of a run's tasks: from the store once filed, live while running. */
  async logs(id: string, options: { task?: string; attempt?: number; element?: number }): Promise<RunLogsResponse> {
    const run = await this.state.getRun(id);
    const tasks = await this.state.getTaskRuns(id);
    if (options.element !== undefined) return this.elementLogs(run, tasks, options);
    const chosen = options.task === undefined ? tasks : tasks.filter((t) => t.task === options.task);
    if (chosen.length === 0) throw new NotFoundError(`run ${id} has no task ${JSON.stringify(options.task)}`);
    const out: RunLogsResponse = { runId: id, status: run.status, tasks: [] };
    for (const t of chosen) {
      const attempts = [];
      for (let attempt = 1; attempt <= t.attempts; attempt++) {
        if (options.attempt !== undefined && attempt !== options.attempt) continue;
        attempts.push(await this.attemptLog(run, t.task, attempt, undefined, t.status === 'running' && attempt === t.attempts));
      }
      out.tasks.push({ task: t.task, status: t.status, cached: t.cached, attempts });
    }
    return out;
  }

  /** One element's attempts of a foreach task (`?task=&element=`). */
  private async elementLogs(run: RunRecord, tasks: TaskRunRecord[], options: { task?: string; attempt?: number; element?: number }): Promise<RunLogsResponse> {
    if (options.task === undefined) throw new ValidationError('`element` names an element of a foreach task: give `task` too', 'query.task');
    const { record } = await this.foreachTask(run, tasks, options.task);
    const element = (await readElementRecords(this.store, run.id, record.task))?.find((e) => e.index === options.element);
    if (element === undefined) throw new NotFoundError(`task ${record.task} of run ${run.id} has no element ${String(options.element)}`, 'query.element');
    const attempts = [];
    for (let attempt = 1; attempt <= element.attempts; attempt++) {
      if (options.attempt !== undefined && attempt !== options.attempt) continue;
      attempts.push(await this.attemptLog(run, record.task, attempt, element.index, element.state === 'running' && attempt === element.attempts));
    }
    return { runId: run.id, status: run.status, tasks: [{ task: record.task, element: element.index, status: element.state, cached: element.cached, attempts }] };
  }

  /**
   * One attempt's output: filed in the store once it ended, live (here or from another replica) while it runs.
   * `attemptRuns`: the task's (or element's) record says this attempt still runs. A filed log is not the
   * end of the attempt by itself: on Kubernetes the pod archives its log in the store while it runs.
   */
  private async attemptLog(run: RunRecord, task: string, attempt: number, element: number | undefined, attemptRuns: boolean): Promise<{ attempt: number; live: boolean; text: string }> {
    const running = run.status === 'running' || run.status === 'queued';
    const filed = await readFiledAttemptLog(this.store, { runId: run.id, task, attempt, element });
    if (filed !== undefined) return { attempt, live: attemptRuns && running, text: filed };
    // Running here, or on another replica that shares its output through the database.
    const here = this.liveLogs.get(run.id, task, attempt, element);
    const live = here ?? (this.state.coordination.shared ? await this.state.coordination.getAttemptLog(run.id, sharedLogTask(task, element), attempt) : undefined);
    return { attempt, live: live !== undefined && (this.active.has(run.id) || (here === undefined && running)), text: live ?? '' };
  }

  /**
   * A page of a foreach task's elements (state, attempts, duration, cached, error), filtered
   * by state: a task of 10,000 elements answers `limit` of them (default 100) at a time.
   */
  async elements(id: string, task: string, query: ElementsQuery): Promise<TaskElementsResponse> {
    const run = await this.state.getRun(id);
    const { record } = await this.foreachTask(run, await this.state.getTaskRuns(id), task);
    const all = (await readElementRecords(this.store, id, task)) ?? [];
    const matching = query.state === undefined ? all : all.filter((e) => e.state === query.state);
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 100;
    const counts = record.elements ?? { total: all.length, succeeded: 0, cached: 0, failed: 0, running: 0, pending: 0 };
    return { runId: id, task, status: record.status, counts, matching: matching.length, offset, limit, elements: matching.slice(offset, offset + limit) };
  }

  /** The task's record, after checking it exists (404) and is a foreach task (422). */
  private async foreachTask(run: RunRecord, tasks: TaskRunRecord[], task: string): Promise<{ record: TaskRunRecord }> {
    const record = tasks.find((t) => t.task === task);
    if (record === undefined) throw new NotFoundError(`run ${run.id} has no task ${JSON.stringify(task)}`);
    const ir = await this.irs.get(run.version);
    if (ir.tasks.find((t) => t.name === task)?.foreach === undefined) throw new ValidationError(`task ${task} is not a foreach task: it has no elements`, 'path.task');
    return { record };
  }

  /** A task's outputs with their encoded values (the `cellgraph outputs --json` document). */
  async outputs(id: string, task: string): Promise<TaskOutputsResponse> {
    await this.state.getRun(id);
    const record = (await this.state.getTaskRuns(id)).find((t) => t.task === task);
    if (record === undefined) throw new NotFoundError(`run ${id} has no task ${JSON.stringify(task)}`);
    const outputs = [];
    for (const o of record.outputs) outputs.push({ ...o, value: JSON.parse((await this.store.getBlob(o)).toString('utf8')) as unknown });
    return { runId: id, task, status: record.status, outputs, metrics: record.metrics };
  }

  /**
   * TypeScript declarations of a workflow version's task outputs, for the notebook client:
   * the version of the workflow's latest run unless one is named.
   */
  async outputTypes(workflow: string, version?: string): Promise<WorkflowTypesResponse> {
    let chosen = version;
    if (chosen === undefined) {
      const [latest] = await this.state.listRuns({ workflow, limit: 1 });
      if (latest === undefined) throw new NotFoundError(`workflow ${JSON.stringify(workflow)} has no runs`);
      chosen = latest.version;
    }
    const ir = await this.irs.get(chosen);
    if (ir.name !== workflow) throw new NotFoundError(`version ${chosen} is not a version of workflow ${JSON.stringify(workflow)}`);
    const notebookText = (await this.store.getFile(notebookKey(chosen))).toString('utf8');
    return { workflow, version: chosen, declarations: outputDeclarations(ir, notebookText) };
  }

  /** The executed notebook, once the run has finished and written it. */
  async executedNotebook(id: string): Promise<Notebook> {
    const run = await this.state.getRun(id);
    if (run.executedNotebook === undefined) throw new ConflictError(`run ${id} is ${run.status}; its executed notebook is written when it ends`);
    return Notebook.parse(JSON.parse((await this.store.getFile(run.executedNotebook)).toString('utf8')));
  }

  /**
   * Resumes runs a previous server process left queued or running (it was killed or
   * crashed): every unfinished run on SQLite; on a shared database, those whose replica's
   * lease expired (the others are still running somewhere). Returns the ids resumed, and
   * starts the lease heartbeat, which from then on adopts the runs of replicas that stop.
   */
  async recover(): Promise<string[]> {
    const resumed = await this.resume(await this.leases.claimAtBoot());
    this.leases.start();
    return resumed;
  }

  /**
   * Resumes runs leased to this process, oldest first: succeeded tasks are kept, running
   * attempts adopted or restarted. A run whose workflow files are gone is recorded as
   * failed rather than left running forever.
   */
  private async resume(claims: LeaseClaim[]): Promise<string[]> {
    const runs: { run: RunRecord; fence: RunFence }[] = [];
    for (const c of claims) if (!this.active.has(c.runId)) runs.push({ run: await this.state.getRun(c.runId), fence: this.leases.fence(c.epoch) });
    const resumed: string[] = [];
    for (const { run, fence } of runs.sort((a, b) => a.run.createdAt.localeCompare(b.run.createdAt))) {
      if (this.active.has(run.id)) continue;
      try {
        const notebookText = (await this.store.getFile(notebookKey(run.version))).toString('utf8');
        // Bound again (Kubernetes: the image, found unchanged in the registry by its content tag) for the tasks still to start.
        const ir = await this.prepare({ ir: await this.irs.get(run.version), notebookText, notebookPath: run.notebookPath });
        const tasks = await this.state.getTaskRuns(run.id);
        const handle = await this.engine.resumeRun({ ir, notebookText, workDir: path.dirname(run.notebookPath), run, tasks, fence });
        this.track(handle, fence);
        resumed.push(run.id);
      } catch (err) {
        if (err instanceof LeaseLostError) continue; // taken over meanwhile: the new owner resumes it
        const message = `could not resume after a restart: ${(err as Error).message}`;
        try {
          await this.state.updateRun(run.id, { status: 'failed', finishedAt: new Date().toISOString(), error: message }, fence);
          await this.engine.publish({ runId: run.id, kind: 'run', status: 'failed', time: new Date().toISOString(), message }, fence);
        } catch (lost) {
          if (!(lost instanceof LeaseLostError)) throw lost;
          continue;
        }
        await this.leases.release(run.id);
      }
    }
    return resumed;
  }

  /**
   * Stops taking runs, waits up to `graceMs` for runs in flight, then cancels the rest
   * and waits for them to record their end.
   */
  async drain(graceMs: number): Promise<{ finished: number; cancelled: number }> {
    this.draining = true;
    // Leases stay renewed while runs wind down here; nothing new is adopted.
    this.leases.stopAdopting();
    const all = () => Promise.all([...this.active.values()].map((h) => h.done.catch(() => undefined)));
    const before = this.active.size;
    await Promise.race([all(), new Promise((r) => setTimeout(r, graceMs).unref())]);
    const left = [...this.active.values()];
    for (const h of left) h.cancel();
    await all();
    await this.leases.stop();
    if (this.logFlush !== undefined) clearInterval(this.logFlush);
    return { finished: before - left.length, cancelled: left.length };
  }
}

/** Checks a parameter map from JSON is what the schema says (the route already parsed it). */
export function assertNoParamConflict(params: Record<string, unknown> | undefined, assignments: string[] | undefined): void {
  if (params === undefined || assignments === undefined) return;
  for (const a of assignments) {
    const name = a.slice(0, Math.max(0, a.indexOf('=')));
    if (name in params) throw new ValidationError(`parameter "${name}" is given both in params and paramAssignments`, `body.params.${name}`);
  }
}

/** The webhooks of a run request: its optional `webhookUrl`, notified as the run's own. */
export function runWebhooks(webhookUrl: string | undefined): RunWebhook[] {
  return webhookUrl === undefined ? [] : [{ url: webhookUrl, source: 'run' }];
}
