import { WorkflowIR, irKey, paramsModuleKey, taskModuleKey } from '@cellgraph/schema';
import type { ArtifactStore } from '../stores';

/** Task modules written at once when a workflow version is filed. */
const PUBLISH_WRITERS = 16;

/** Store key of the notebook a workflow version was compiled from. */
export function notebookKey(version: string): string {
  return `workflows/${version.replace(/^sha256:/, '')}/notebook.ipynb`;
}

/**
 * Files a workflow version in the store: its IR, one generated module per task, the
 * parameters module and the source notebook. Versions are content hashes, so a version
 * already filed is complete and is left alone.
 */
export async function publishWorkflow(store: ArtifactStore, ir: WorkflowIR, notebookText: string): Promise<void> {
  const key = irKey(ir.version);
  if (await store.hasFile(key)) return;
  // A few writes at a time: 10,000 at once would hold 10,000 buffers and file handles.
  let next = 0;
  const writer = async () => {
    for (let i = next++; i < ir.tasks.length; i = next++) await store.putFile(taskModuleKey(ir.version, ir.tasks[i].name), ir.tasks[i].module);
  };
  await Promise.all(Array.from({ length: Math.min(PUBLISH_WRITERS, ir.tasks.length) }, writer));
  await store.putFile(paramsModuleKey(ir.version), ir.paramsModule);
  await store.putFile(notebookKey(ir.version), notebookText);
  // The IR goes last: its presence marks the version complete.
  await store.putFile(key, JSON.stringify(ir));
}

/** Reads a filed workflow version back, parsed. */
export async function loadWorkflow(store: ArtifactStore, version: string): Promise<WorkflowIR> {
  return WorkflowIR.parse(JSON.parse((await store.getFile(irKey(version))).toString('utf8')));
}
