import { attemptKey } from '@cellgraph/schema';
import type { ArtifactStore } from '../stores';

/** One attempt of a task, or of one element of a foreach task. */
export interface AttemptLogRef {
  runId: string;
  task: string;
  attempt: number;
  /** A foreach element's index: its attempts are filed apart from the task's. */
  element?: number;
}

/**
 * An attempt's log as the executor filed it in the store (every executor files it under
 * attemptKey, per element for a foreach task), or undefined when none is filed yet. The one
 * reader of filed logs (API and CLI), so a change of where logs are filed is one edit here.
 */
export async function readFiledAttemptLog(store: ArtifactStore, ref: AttemptLogRef): Promise<string | undefined> {
  const key = attemptKey(ref.runId, ref.task, ref.attempt, 'log.txt', ref.element);
  return (await store.hasFile(key)) ? (await store.getFile(key)).toString('utf8') : undefined;
}
