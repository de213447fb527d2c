import * as k8s from '@kubernetes/client-node';
import { TaskError, TaskResult, attemptKey } from '@cellgraph/schema';
import { type RetryOptions, retry } from '../../retry';
import type { ArtifactStore } from '../../stores';
import type { AttemptHandle, AttemptOutcome, AttemptSpec, Executor, LogListener } from '../executor';
import { logTail } from '../log-tail';
import { CreateThrottle } from './create-throttle';
import { KubernetesApiError, toKubeError } from './kube-errors';
import { PodInformer } from './pod-informer';
import { podProgress } from './pod-progress';
import { KubernetesTarget, PodLabels, labelValue, podForAttempt } from './pod-spec';

/** What the Kubernetes executor is built from. */
export interface KubernetesExecutorOptions {
  kubeConfig: k8s.KubeConfig;
  target: KubernetesTarget;
  /** The run's artifact store (S3): where task pods file results and logs. */
  store: ArtifactStore;
  /** How often a running attempt's archived log is read for live output (default 1 s). */
  logPollMs?: number;
  /** Retries of API calls that failed transiently (429, 5xx, no answer); default 7 attempts, ~16 s of waits on average. */
  apiRetry?: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs' | 'deadlineMs'>;
  /** Problems worth a line on stderr that do not fail anything (watch reconnects). */
  onWarning?: (message: string) => void;
  /** Timings of every pod that finished, for benchmarks (control-plane overhead). */
  onPodFinished?: (timing: PodTiming) => void;
  /** Pod creations per second at most (default 20; a foreach of thousands of elements is paced, not refused). */
  podCreatesPerSecond?: number;
}

/** When the executor asked for a pod and when it saw the pod run and finish (epoch ms). */
export interface PodTiming {
  pod: string;
  createRequestedAt: number;
  /** When the API server answered the create (undefined for a re-attached pod). */
  createdAt?: number;
  observedRunningAt?: number;
  observedFinishedAt: number;
  /** The task's own time as its runner measured it, when it filed a result. */
  taskMs?: number;
}

const DEFAULT_API_RETRY = { attempts: 7, baseMs: 500, maxMs: 16_000 };
const DEFAULT_POD_CREATES_PER_SECOND = 20;
/** How long a cancelled pod gets to stop before the kubelet kills it. */
const CANCEL_GRACE_SECONDS = 5;
/** How long cancel waits to see the pod gone before reporting the attempt cancelled anyway. */
const CANCEL_WAIT_MS = 15_000;
/** Slack after activeDeadlineSeconds before the executor stops a pod itself (the kubelet should have). */
const DEADLINE_SLACK_MS = 60_000;

/**
 * Runs each task attempt as one pod (no driver pod), follows it through one shared
 * informer, and turns what the kubelet reports into attempt outcomes: results and logs
 * come from the artifact store, where the runner in the pod files them. Platform failures
 * (eviction, node loss, a pod deleted by someone else) start the attempt's pod again
 * under a separate system-retry budget; the task's own retries are the engine's.
 */
export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes';
  readonly informer: PodInformer;
  /** Counts for tests and benchmarks. */
  readonly stats = { podsCreated: 0, apiRetries: 0, systemRetries: 0, podsDeleted: 0 };
  private readonly core: k8s.CoreV1Api;
  /** Attempts being followed, so stop() can let go of them. */
  readonly attempts = new Set<PodAttempt>();

  private readonly createThrottle: CreateThrottle;

  constructor(readonly options: KubernetesExecutorOptions) {
    this.core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.createThrottle = new CreateThrottle(options.podCreatesPerSecond ?? DEFAULT_POD_CREATES_PER_SECOND);
    this.informer = new PodInformer(options.kubeConfig, options.target.namespace, `${PodLabels.managedBy}=cellgraph`, options.onWarning);
  }

  /** Lists the namespace's cellgraph pods and starts watching; fails fast on a cluster that refuses us. */
  async start(): Promise<void> {
    await this.informer.start();
  }

  /**
   * Stops watching and lets go of every attempt in flight (their pods keep running: a
   * later process re-attaches to them). Their outcomes never arrive.
   */
  stop(): void {
    this.informer.stop();
    for (const a of this.attempts) a.detach();
    this.attempts.clear();
  }

  launch(spec: AttemptSpec, onLog: LogListener): AttemptHandle {
    const attempt = new PodAttempt(this, spec, onLog);
    void attempt.startPod(0);
    return { done: attempt.done, cancel: () => attempt.cancel(), detach: () => attempt.detach() };
  }

  /**
   * Finds the attempt's pod by its labels (the newest one, after system retries) and
   * follows it: a server restart re-attaches to running pods instead of starting them twice.
   */
  async recoverAttempt(spec: AttemptSpec, onLog: LogListener): Promise<AttemptHandle | undefined> {
    await this.start();
    const inv = spec.invocation;
    const pods = this.informer
      .find({
        [PodLabels.run]: labelValue(inv.runId),
        [PodLabels.task]: labelValue(inv.task),
        [PodLabels.attempt]: String(inv.attempt),
        ...(inv.element !== undefined ? { [PodLabels.element]: String(inv.element) } : {})
      })
      // Labels are truncated; the annotation holds the exact run id.
      .filter((p) => p.metadata?.annotations?.['cellgraph.dev/run-id'] === inv.runId)
      .sort((a, b) => Number(b.metadata?.labels?.[PodLabels.systemRetry] ?? 0) - Number(a.metadata?.labels?.[PodLabels.systemRetry] ?? 0));
    const newest = pods[0];
    if (newest?.metadata?.name === undefined) return undefined;
    const attempt = new PodAttempt(this, spec, onLog);
    attempt.followPod(newest.metadata.name, Number(newest.metadata.labels?.[PodLabels.systemRetry] ?? 0), Date.now());
    onLog('stderr', `[cellgraph] re-attached to pod ${newest.metadata.name}\n`);
    return { done: attempt.done, cancel: () => attempt.cancel(), detach: () => attempt.detach() };
  }

  /** Calls the API, retrying transient failures with backoff; other failures throw a KubernetesApiError. */
  api<T>(call: () => Promise<T>): Promise<T> {
    return retry(
      async () => {
        try {
          return await call();
        } catch (err) {
          throw toKubeError(err);
        }
      },
      {
        ...(this.options.apiRetry ?? DEFAULT_API_RETRY),
        retryable: (e) => e instanceof KubernetesApiError && e.transient,
        onRetry: () => {
          this.stats.apiRetries += 1;
        }
      }
    );
  }

  async createPod(manifest: k8s.V1Pod): Promise<k8s.V1Pod> {
    await this.createThrottle.take();
    this.stats.podsCreated += 1;
    return this.api(() => this.core.createNamespacedPod({ namespace: this.options.target.namespace, body: manifest }));
  }

  /** Deletes a pod; one already gone counts as deleted. */
  async deletePod(name: string, gracePeriodSeconds?: number): Promise<void> {
    try {
      await this.api(() => this.core.deleteNamespacedPod({ name, namespace: this.options.target.namespace, gracePeriodSeconds }));
      this.stats.podsDeleted += 1;
    } catch (err) {
      if (toKubeError(err).status !== 404) throw err;
    }
  }
}

/** One task attempt: its pod (or pods, after system retries) from creation to outcome. */
class PodAttempt {
  readonly done: Promise<AttemptOutcome>;
  private resolve!: (o: AttemptOutcome) => void;
  private podName = '';
  private systemRetry = 0;
  private unsubscribe?: () => void;
  private finished = false;
  private cancelling = false;
  private stuckTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private logTimer?: NodeJS.Timeout;
  private logSeen = '';
  /** Lines the executor itself adds to the attempt's log (system retries, re-attach). */
  private notes = '';
  private createRequestedAt = 0;
  private createdAt?: number;
  private observedRunningAt?: number;

  constructor(
    private readonly executor: KubernetesExecutor,
    private readonly spec: AttemptSpec,
    private readonly onLog: LogListener
  ) {
    this.done = new Promise((r) => (this.resolve = r));
    executor.attempts.add(this);
    void this.done.then(() => executor.attempts.delete(this));
  }

  /** Stops following the pod without an outcome (the executor is shutting down, or another replica took the run over). */
  detach(): void {
    this.finished = true;
    this.stopFollowing();
    this.executor.attempts.delete(this);
  }

  private get target(): KubernetesTarget {
    return this.executor.options.target;
  }

  private get store(): ArtifactStore {
    return this.executor.options.store;
  }

  private key(file: 'result.json' | 'log.txt'): string {
    const inv = this.spec.invocation;
    return attemptKey(inv.runId, inv.task, inv.attempt, file, inv.element);
  }

  async startPod(systemRetry: number): Promise<void> {
    const { spec } = this;
    if (spec.image === undefined) {
      this.finishLost('infrastructure', 'KubernetesExecutorError', 'the kubernetes executor needs the workflow built into an image (the run has no image)');
      return;
    }
    const manifest = podForAttempt({
      workflow: spec.workflow,
      policy: spec.policy,
      // Inside the image the notebook's files live at the image's work directory, not at the local path.
      invocation: { ...spec.invocation, workDir: this.target.workDir },
      image: spec.image,
      target: this.target,
      systemRetry
    });
    const requestedAt = Date.now();
    this.followPod(manifest.metadata.name, systemRetry, requestedAt, false);
    try {
      const created = await this.executor.createPod(manifest as k8s.V1Pod);
      this.createdAt = Date.now();
      this.executor.informer.observe(created);
    } catch (err) {
      const e = toKubeError(err);
      // Created by an earlier call whose answer was lost: the pod is ours, follow it.
      if (e.status === 409 && e.reason === 'AlreadyExists') return this.evaluate(this.executor.informer.get(this.podName));
      this.finishLost('infrastructure', e.name, `could not create pod ${manifest.metadata.name}: ${e.message}`);
      return;
    }
    if (this.cancelling) void this.deleteForCancel();
  }

  /** Follows the named pod; `evaluateNow` checks the cached state at once (re-attach). */
  followPod(name: string, systemRetry: number, requestedAt: number, evaluateNow = true): void {
    this.unsubscribe?.();
    this.podName = name;
    this.systemRetry = systemRetry;
    this.createRequestedAt = requestedAt;
    this.observedRunningAt = undefined;
    this.unsubscribe = this.executor.informer.subscribe(name, (pod) => this.evaluate(pod));
    if (evaluateNow) this.evaluate(this.executor.informer.get(name));
  }

  cancel(): void {
    if (this.finished || this.cancelling) return;
    this.cancelling = true;
    void this.deleteForCancel();
  }

  private async deleteForCancel(): Promise<void> {
    const timer = setTimeout(() => this.finishLost('cancelled', 'CancelledError', 'task was cancelled'), CANCEL_WAIT_MS);
    timer.unref();
    await this.executor.deletePod(this.podName, CANCEL_GRACE_SECONDS).catch((err: Error) => {
      this.note(`could not delete pod ${this.podName}: ${err.message}`);
    });
  }

  private evaluate(pod: k8s.V1Pod | undefined): void {
    if (this.finished) return;
    if (pod === undefined) {
      if (this.cancelling) return this.finishLost('cancelled', 'CancelledError', 'task was cancelled');
      return void this.systemFailure('PodDeleted', `pod ${this.podName} was deleted before it finished`);
    }
    const progress = podProgress(pod);
    // Someone else is deleting a pod still at work: wait until the kubelet has stopped it, so
    // the attempt never runs in two pods at once.
    if (pod.metadata?.deletionTimestamp && !this.cancelling && (progress.kind === 'running' || progress.kind === 'waiting')) return;
    switch (progress.kind) {
      case 'waiting':
        if (progress.problem === undefined) return this.clearStuck();
        this.stuckTimer ??= setTimeout(() => void this.failStuck(), this.target.stuckPendingSeconds * 1000);
        return;
      case 'running':
        this.clearStuck();
        this.onRunning();
        return;
      case 'succeeded':
        return void this.finishFromPod(undefined);
      case 'failed':
        if (this.cancelling) return this.finishLost('cancelled', 'CancelledError', 'task was cancelled');
        if (progress.failure === 'system') return void this.systemFailure(progress.reason, progress.message);
        if (progress.failure === 'timeout') {
          return void this.finishFromPod({ name: 'TimeoutError', kind: 'timeout', message: `task exceeded its timeout of ${this.spec.policy.timeoutSeconds ?? '?'} s and was stopped (${progress.message})` });
        }
        return void this.finishFromPod({
          name: progress.reason === 'OOMKilled' ? 'OOMKilled' : 'PodFailedError',
          kind: 'exit',
          message: `pod ${this.podName} failed (${progress.reason}${progress.exitCode !== undefined ? `, exit code ${progress.exitCode}` : ''}): ${progress.message}`
        });
    }
  }

  private onRunning(): void {
    if (this.observedRunningAt !== undefined) return;
    this.observedRunningAt = Date.now();
    this.logTimer ??= setInterval(() => void this.pollLog(), this.executor.options.logPollMs ?? 1000);
    const timeoutMs = this.spec.timeoutMs;
    if (timeoutMs !== undefined && this.deadlineTimer === undefined) {
      // The kubelet enforces activeDeadlineSeconds; this is the safety net if it does not.
      this.deadlineTimer = setTimeout(() => {
        void this.executor.deletePod(this.podName, 0).catch(() => undefined);
        this.finishLost('timeout', 'TimeoutError', `task exceeded its timeout of ${timeoutMs / 1000} s and its pod was not stopped by the node; deleted it`);
      }, timeoutMs + DEADLINE_SLACK_MS);
      this.deadlineTimer.unref();
    }
  }

  private clearStuck(): void {
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.stuckTimer = undefined;
  }

  /** The pod could not start for `stuckPendingSeconds`: give up on it with the reason the cluster gave. */
  private async failStuck(): Promise<void> {
    this.stuckTimer = undefined;
    const pod = this.executor.informer.get(this.podName);
    const progress = pod ? podProgress(pod) : undefined;
    if (this.finished || progress?.kind !== 'waiting' || progress.problem === undefined) return;
    await this.executor.deletePod(this.podName, 0).catch(() => undefined);
    this.finishLost(
      'infrastructure',
      'PodStuckError',
      `pod ${this.podName} could not start for ${this.target.stuckPendingSeconds} s: ${progress.problem.reason}: ${progress.problem.message}`
    );
  }

  /** The platform lost the pod: start it again while the system-retry budget lasts. */
  private async systemFailure(reason: string, message: string): Promise<void> {
    this.stopFollowing();
    const lost = this.podName;
    if (this.executor.options.target.podGC !== 'never') await this.executor.deletePod(lost, 0).catch(() => undefined);
    if (this.systemRetry >= this.target.systemRetries) {
      return this.finishLost('infrastructure', 'SystemFailureError', `the platform ended this attempt's pod ${this.systemRetry + 1} times; last: pod ${lost} ${reason}: ${message}`);
    }
    this.executor.stats.systemRetries += 1;
    this.note(`pod ${lost} ended by the platform (${reason}: ${message}); starting it again (system retry ${this.systemRetry + 1} of ${this.target.systemRetries}; the task's own retries are untouched)`);
    if (this.cancelling) return this.finishLost('cancelled', 'CancelledError', 'task was cancelled');
    await this.startPod(this.systemRetry + 1);
  }

  /** The pod ended on its own: take the runner's result from the store if it filed one. */
  private async finishFromPod(failure: TaskError | undefined): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.stopFollowing();
    const result = await this.readResult().catch((err: Error) => err);
    const log = await this.finalLog();
    this.report(result instanceof Error ? undefined : result);
    // A result filed by the runner explains a plain failure best (the cell that threw); a
    // timeout or an OOM kill happened to the runner, so the pod's reason is the story.
    const runnerReported = result !== undefined && !(result instanceof Error);
    if (runnerReported && (failure === undefined || (failure.kind === 'exit' && failure.name !== 'OOMKilled'))) {
      await this.collect(result.status === 'succeeded');
      return this.resolve({ kind: 'reported', result, log });
    }
    await this.collect(false);
    const why =
      failure ??
      ({ name: 'PodResultError', kind: 'exit', message: `pod ${this.podName} finished without filing a result${result instanceof Error ? ` (${result.message})` : ''}` } as TaskError);
    this.resolve({ kind: 'lost', log, error: TaskError.parse({ ...why, message: `${why.message}${logTail(log)}` }) });
  }

  private finishLost(kind: TaskError['kind'], name: string, message: string): void {
    if (this.finished) return;
    this.finished = true;
    this.stopFollowing();
    void (async () => {
      const log = await this.finalLog();
      this.report(undefined);
      if (kind !== 'cancelled') await this.collect(false);
      this.resolve({ kind: 'lost', log, error: TaskError.parse({ name, kind, message }) });
    })();
  }

  private stopFollowing(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.clearStuck();
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (this.logTimer) clearInterval(this.logTimer);
    this.deadlineTimer = undefined;
    this.logTimer = undefined;
  }

  private report(result: TaskResult | undefined): void {
    this.executor.options.onPodFinished?.({
      pod: this.podName,
      createRequestedAt: this.createRequestedAt,
      createdAt: this.createdAt,
      observedRunningAt: this.observedRunningAt,
      observedFinishedAt: Date.now(),
      taskMs: result?.durationMs
    });
  }

  /** Pod garbage collection per the target's policy (failed pods are kept by default for inspection). */
  private async collect(succeeded: boolean): Promise<void> {
    const gc = this.target.podGC;
    if (gc === 'always' || (gc === 'onSuccess' && succeeded)) await this.executor.deletePod(this.podName, 0).catch(() => undefined);
  }

  private async readResult(): Promise<TaskResult | undefined> {
    const key = this.key('result.json');
    if (!(await this.store.hasFile(key))) return undefined;
    return TaskResult.parse(JSON.parse((await this.store.getFile(key)).toString('utf8')));
  }

  /** Streams what the runner archived since the last look. */
  private async pollLog(): Promise<void> {
    const text = await this.readLog();
    if (text === undefined || this.finished) return;
    this.emitNew(text);
  }

  private emitNew(text: string): void {
    // A pod started again after a system failure writes its log from the beginning.
    if (!text.startsWith(this.logSeen)) this.logSeen = '';
    const fresh = text.slice(this.logSeen.length);
    this.logSeen = text;
    if (fresh) this.onLog('stdout', fresh);
  }

  private async readLog(): Promise<string | undefined> {
    const key = this.key('log.txt');
    try {
      return (await this.store.hasFile(key)) ? (await this.store.getFile(key)).toString('utf8') : undefined;
    } catch {
      return undefined;
    }
  }

  /** The attempt's whole log: the runner's archive plus the executor's own notes; filed if the runner never could. */
  private async finalLog(): Promise<string> {
    const archived = await this.readLog();
    if (archived !== undefined) this.emitNew(archived);
    const log = `${archived ?? ''}${this.notes}`;
    if (archived === undefined && this.notes) await this.store.putFile(this.key('log.txt'), log).catch(() => undefined);
    return log;
  }

  private note(line: string): void {
    const text = `[cellgraph] ${line}\n`;
    this.notes += text;
    this.onLog('stderr', text);
  }
}

