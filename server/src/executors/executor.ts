import type { ImageRef, Resources, StoreConfig, TaskError, TaskInvocation, TaskPolicy, TaskResult } from '@cellgraph/schema';
import type { ParamsCheck, ParamsCheckAnswer } from './task-entry-protocol';

/** Everything an executor needs to start one task attempt. */
export interface AttemptSpec {
  invocation: TaskInvocation;
  /** Kill the attempt after this long; reported as a `timeout` failure. */
  timeoutMs?: number;
  /** Extra environment from the task's policy. */
  env: Record<string, string>;
  resources: Resources;
  /** The workflow's name (pods are labelled with it). */
  workflow: string;
  /** The task's whole policy: executors that place work elsewhere need secrets, resources and the timeout as declared. */
  policy: TaskPolicy;
  /** The image the run's tasks run in (required by executors that run containers). */
  image?: ImageRef;
  /**
   * Set on a foreach element's attempts (the same for every element of a task in a run):
   * attempts with the same key may run one after another in one process, each still an
   * attempt of its own (docs/dynamic-workflows.md, "Elements in batches"). Executors that
   * do not batch ignore it.
   */
  batch?: string;
}

/** How an attempt ended, as far as the executor can tell. */
export type AttemptOutcome =
  /** The task process reported a result (succeeded or failed in user code). */
  | { kind: 'reported'; result: TaskResult; log: string }
  /** The process ended without a result: crashed, exited non-zero early, timed out or was cancelled. */
  | { kind: 'lost'; error: TaskError; log: string };

/** A running attempt. */
export interface AttemptHandle {
  readonly done: Promise<AttemptOutcome>;
  /** Stops the attempt; `done` then resolves with a `cancelled` error. */
  cancel(): void;
  /**
   * Lets go of the attempt without stopping it, for executors whose attempts another
   * server process can follow (a pod: the replica that adopted the run re-attaches to it);
   * `done` never resolves then. Executors whose attempts cannot be handed over (local
   * processes, whose pipes die with their server) leave it out: the attempt is cancelled.
   */
  detach?(): void;
}

/** Receives a task attempt's output as it is produced (live progress and logs). */
export type LogListener = (stream: 'stdout' | 'stderr', text: string) => void;

/**
 * Runs task attempts somewhere: child processes (local) or pods (Kubernetes). One
 * attempt = one process; the executor never interprets task semantics.
 */
export interface Executor {
  readonly name: string;
  launch(spec: AttemptSpec, onLog: LogListener): AttemptHandle;
  /**
   * After a restart, for an attempt the previous process left running: makes sure it
   * cannot run twice. Returns a handle when the attempt is still alive and can be followed
   * (a pod re-attached by its labels), or undefined when it is gone or was stopped (local
   * processes are stopped: their output pipes died with the old process).
   */
  recoverAttempt(spec: AttemptSpec, onLog: LogListener): Promise<AttemptHandle | undefined>;
  /** Optional: a run is about to start with up to `slots` attempts at once: get that many ready ahead of need. */
  warm?(store: StoreConfig, slots: number): void;
  /** Optional: the attempts of batch `key` (AttemptSpec.batch) are over: processes kept for it can end. */
  endBatch?(key: string): void;
  /** Optional: evaluates a workflow's parameters module (else the engine starts a local process for it). */
  checkParams?(check: ParamsCheck): Promise<ParamsCheckAnswer>;
}
