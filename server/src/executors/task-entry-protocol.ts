import { JsonValue, StoreConfig } from '@cellgraph/schema';
import { z } from 'zod';

/**
 * How executors talk to the task entry process. Environment variables rather than files or
 * arguments, because a pod spec carries env the same way a child process does.
 */

/** JSON TaskInvocation for a task attempt. */
export const INVOCATION_ENV = 'CELLGRAPH_INVOCATION';

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
    elementLists: z.array(z.string()).optional()
  })
  .strict();
export type ArgoTask = z.infer<typeof ArgoTask>;

/** Where an Argo task writes the element indices of a list a foreach task iterates (an Argo output parameter). */
export function argoElementsPath(list: string): string {
  return `/tmp/cellgraph-elements-${list.replace(/[^A-Za-z0-9_-]/g, '_')}.json`;
}
