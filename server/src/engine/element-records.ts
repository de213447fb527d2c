import { z } from 'zod';
import { ElementRecord } from '@cellgraph/schema';
import type { ArtifactStore } from '../stores';

/**
 * A foreach task's per-element records (state, attempts, timing, error), filed in the store
 * beside the elements' attempt files: `runs/<run>/tasks/<task>/elements.json`. The engine
 * rewrites it when it persists the task's element counts (at most once a second while the
 * task runs, and when it ends), so any replica can list a task's elements, live or after.
 * The run's state database keeps only the counts (docs/dynamic-workflows.md).
 */

const ElementRecords = z.array(ElementRecord);

/** Store key of a foreach task's element records in a run. */
export function elementRecordsKey(runId: string, task: string): string {
  return `runs/${runId}/tasks/${task}/elements.json`;
}

/** Files a foreach task's element records (the whole list; it replaces the previous one). */
export async function writeElementRecords(store: ArtifactStore, runId: string, task: string, records: ElementRecord[]): Promise<void> {
  await store.putFile(elementRecordsKey(runId, task), JSON.stringify(records));
}

/** A foreach task's element records, or undefined before the task first filed them. */
export async function readElementRecords(store: ArtifactStore, runId: string, task: string): Promise<ElementRecord[] | undefined> {
  const key = elementRecordsKey(runId, task);
  if (!(await store.hasFile(key))) return undefined;
  return ElementRecords.parse(JSON.parse((await store.getFile(key)).toString('utf8')));
}
