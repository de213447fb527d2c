// Deep imports: the task entry loads this module, and the schema package's index costs every task process ~25 ms.
import { StoreConfig, type TaskInvocation } from '@cellgraph/schema/dist/invocation';
import { JsonValue } from '@cellgraph/schema/dist/notebook';
import { z } from 'zod';

/**
 * How executors talk to the task entry process. Environment variables rather than files or
 * arguments, because a pod spec carries env the same way a child process does.
 */

/** JSON TaskInvocation for a task attempt. */
export const INVOCATION_ENV = 'CELLGRAPH_INVOCATION';

/**
 * The invocation naming the variables an executor fills from secrets, so the runner redacts
 * their values from what the task shows. Names only: the values never enter the invocation.
 */
export function withSecretNames(invocation: TaskInvocation, secrets: readonly { env: string }[]): TaskInvocation {
  return secrets.length > 0 ? { ...invocation, secretEnv: [...new Set(secrets.map((s) => s.env))] } : invocation;
}

/**
 * Set to `1` where the executor cannot collect the process's output itself (a pod): the
 * task entry then archives its own log in the store (see log-archive.ts).
 */
export const ARCHIVE_LOGS_ENV = 'CELLGRAPH_ARCHIVE_LOGS';

/** JSON ParamsCheck for a parameters check (see task-entry). */
export const PARAMS_CHECK_ENV = 'CELLGRAPH_PARAMS_CHECK';

/** Where the parameters check writes its JSON answer. */
export const RESULT_FILE_ENV = 'CELLGRAPH_RESULT_FILE';

/** A request to evaluate the parameters module with overrides (validated before a run starts). */
export const ParamsCheck = z.object({
  workflowVersion: z.string(),
  workDir: z.string(),
  overrides: z.record(JsonValue),
  store: StoreConfig
});
export type ParamsCheck = z.infer<typeof ParamsCheck>;

/** The answer of a parameters check. */
export const ParamsCheckAnswer = z.union([
  z.object({ ok: z.literal(true), values: z.record(JsonValue) }),
  z.object({ ok: z.literal(false), name: z.string(), message: z.string() })
]);
export type ParamsCheckAnswer = z.infer<typeof ParamsCheckAnswer>;

/**
 * Set on task pods of a workflow exported to Argo Workflows (see export/argo.ts): there is
 * no engine to hand the task its inputs, so the task entry reads its upstream tasks'
 * final results from the store itself. Argo substitutes the `{{...}}` parts (run name,
 * retry number, parameter values as JSON) before the pod starts.
 */
export const ARGO_TASK_ENV = 'CELLGRAPH_ARGO_TASK';

/** The Argo task description, after Argo's substitution. */
export const ArgoTask = z
  .object({
    task: z.string(),
    workflowVersion: z.string(),
    /** `{{workflow.name}}`: one Argo workflow = one cellgraph run. */
    runId: z.string().min(1),
    /** `{{retries}}` (0 on the first attempt) for tasks with a retry strategy. */
    retry: z.number().int().min(0).default(0),
    /** Parameter overrides (the workflow's parameters, each passed as JSON). */
    params: z.record(JsonValue),
    workDir: z.string(),
    store: StoreConfig,
    /** `{{item}}`: the element of a foreach task this pod runs (Argo's withParam). */
    element: z.number().int().min(0).optional(),
    /** Outputs of this task that foreach tasks iterate: their element indices are written to {@link argoElementsPath} for withParam. */
    elementLists: z.array(z.string()).optional(),
    /**
     * This pod is the task's condition step: it only evaluates the task's `when` and writes
     * `true` or `false` to {@link ARGO_CONDITION_PATH} (an Argo output parameter the task's
     * own Argo `when` reads); false also files the task's `skipped` final result.
     */
    condition: z.literal(true).optional(),
    /**
     * This pod is a foreach task's collect step: it collects the elements' outputs in element
     * order (a failed element's as `undefined`), files the task's final result for the tasks
     * below, and fails when fewer elements succeeded than the task's `minSuccessRatio` asks.
     */
    collect: z.literal(true).optional()
  })
  .strict();
export type ArgoTask = z.infer<typeof ArgoTask>;

/** Where an Argo condition step writes its verdict, `true` or `false` (the output parameter `result`). */
export const ARGO_CONDITION_PATH = '/tmp/cellgraph-condition';

/** Where an Argo task writes the element indices of a list a foreach task iterates (an Argo output parameter). */
export function argoElementsPath(list: string): string {
  return `/tmp/cellgraph-elements-${list.replace(/[^A-Za-z0-9_-]/g, '_')}.json`;
}

/**
 * Set to `1` on a pre-started (warm) task process: it loads the runtime, then waits for
 * exactly one PoolAssignment as a JSON line on stdin, runs it, and exits. Its stdin stays
 * open while the server lives: end of input means the server is gone, and the process
 * ends its process group (see executors/local/warm-pool.ts).
 */
export const POOL_ENV = 'CELLGRAPH_POOL';

/**
 * Where a warm process that took an attempt records which one (`<pid>.json`): its
 * environment was fixed before the attempt was known, so the orphan scan of a restarted
 * server (lost-attempts.ts) reads the attempt from here instead.
 */
export const POOL_MARKERS_ENV = 'CELLGRAPH_POOL_MARKERS';

/** What a warm process is handed: one task attempt, or one parameters check. */
export const PoolAssignment = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('attempt'),
    /** The TaskInvocation as JSON, exactly as a cold process gets it in INVOCATION_ENV. */
    invocation: z.string(),
    /** The task's own variables (declared env, secrets), added to the clean environment the process started with. */
    env: z.record(z.string())
  }),
  z.object({ kind: z.literal('params'), check: z.string(), resultFile: z.string() }),
  z.object({
    /**
     * A batch of foreach elements of one task (docs/dynamic-workflows.md, "Elements in
     * batches"): this first element, then one {@link ElementAssignment} line per element,
     * each written once the previous one's end marker arrived.
     */
    kind: z.literal('elements'),
    invocation: z.string(),
    env: z.record(z.string()),
    /** Random per process: the end markers carry it, so no output of user code can forge one. */
    nonce: z.string().regex(/^[0-9a-f]{16,64}$/)
  })
]);
export type PoolAssignment = z.infer<typeof PoolAssignment>;

/** The next element of a batch process: its TaskInvocation as JSON (one line on stdin). */
export const ElementAssignment = z.object({ invocation: z.string() });
export type ElementAssignment = z.infer<typeof ElementAssignment>;

/**
 * What a batch process writes on stdout and on stderr after each element (its result is
 * filed by then): everything before it on that stream was the element's output. The last
 * character before the closing NUL says whether the process takes another element (`1`)
 * or not (`0`: the element left state behind that the next one could see).
 */
export function elementEndMarker(nonce: string, more: boolean): string {
  return `${elementEndPrefix(nonce)}${more ? '1' : '0'}\u0000`;
}

/** The part of {@link elementEndMarker} before its flag. */
export function elementEndPrefix(nonce: string): string {
  return `\u0000cellgraph-element-end:${nonce}:`;
}
