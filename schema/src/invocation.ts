import { z } from 'zod';
import { ContentHash, RunId, TaskName } from './names';
import { JsonValue } from './notebook';
import { ArtifactRef, CellRun, Metrics, OutputRef, TaskError } from './runs';

/** Where artifacts live. The filesystem store is the embedded default. */
export const StoreConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('filesystem'), root: z.string().min(1) }),
  z.object({
    kind: z.literal('s3'),
    bucket: z.string().min(3).max(63),
    prefix: z.string().default(''),
    endpoint: z.string().url().optional(),
    region: z.string().default('us-east-1'),
    forcePathStyle: z.boolean().default(false)
  })
]);
export type StoreConfig = z.infer<typeof StoreConfig>;

/**
 * What an executor hands to a task process (local child or pod): everything needed to
 * run one attempt. Small by design: values are references into the store.
 */
export const TaskInvocation = z.object({
  runId: RunId,
  task: TaskName,
  attempt: z.number().int().min(1),
  workflowVersion: ContentHash,
  /** The directory the task runs in (the notebook's, like tslab), so relative paths resolve alike. */
  workDir: z.string(),
  inputs: z.record(ArtifactRef),
  /** TypeScript type text of each output the task must produce (from the IR), recorded on its OutputRef. */
  outputTypes: z.record(z.string()),
  params: z.record(JsonValue),
  store: StoreConfig,
  /** For one element of a foreach task: its index (its value arrives as the `as` input). */
  element: z.number().int().min(0).optional(),
  /**
   * Names (never values) of the environment variables the executor filled from secrets: the
   * runner reads their values from its own environment and redacts them from the task's
   * log, executed cells and error.
   */
  secretEnv: z.array(z.string()).optional()
});
export type TaskInvocation = z.infer<typeof TaskInvocation>;

/** What a task attempt reports back, written to the store by the task process. */
export const TaskResult = z.object({
  /** `skipped`: the task's `when` condition was false (no outputs). */
  status: z.enum(['succeeded', 'failed', 'skipped']),
  outputs: z.array(OutputRef),
  metrics: Metrics,
  cells: z.array(CellRun),
  error: TaskError.optional(),
  startedAt: z.string(),
  durationMs: z.number().min(0)
});
export type TaskResult = z.infer<typeof TaskResult>;

/** Store keys of one attempt's files, shared by every writer and reader. A foreach element's attempts live under `element-<i>/`. */
export function attemptKey(runId: string, task: string, attempt: number, file: 'result.json' | 'log.txt' | 'invocation.json', element?: number): string {
  return `runs/${runId}/tasks/${task}/${element !== undefined ? `element-${element}/` : ''}attempt-${attempt}/${file}`;
}

/**
 * Store key of a task's final result in a run without cellgraph's engine (Argo Workflows):
 * the succeeded attempt's TaskResult, which downstream tasks read their inputs from (a
 * foreach element's under `element-<i>/`; a skipped task's has status `skipped`).
 */
export function taskFinalResultKey(runId: string, task: string, element?: number): string {
  return `runs/${runId}/tasks/${task}/${element !== undefined ? `element-${element}/` : ''}final.json`;
}

/** Store key of a workflow's generated task module. */
export function taskModuleKey(version: string, task: string): string {
  return `workflows/${version.replace(/^sha256:/, '')}/tasks/${task}.js`;
}

/** Store key of a workflow's parameters module. */
export function paramsModuleKey(version: string): string {
  return `workflows/${version.replace(/^sha256:/, '')}/params.js`;
}

/** Store key of a workflow's IR document. */
export function irKey(version: string): string {
  return `workflows/${version.replace(/^sha256:/, '')}/ir.json`;
}

/** Store key of a run's executed notebook. */
export function executedNotebookKey(runId: string): string {
  return `runs/${runId}/executed.ipynb`;
}
