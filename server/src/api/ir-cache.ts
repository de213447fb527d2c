import type { WorkflowIR } from '@cellgraph/schema';
import { loadWorkflow } from '../engine/workflow-files';
import type { ArtifactStore } from '../stores';

/** Parsed IRs by version. Versions are content hashes, so an entry never goes stale. */
export class IrCache {
  private readonly entries = new Map<string, Promise<WorkflowIR>>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly capacity = 256
  ) {}

  get(version: string): Promise<WorkflowIR> {
    const hit = this.entries.get(version);
    if (hit !== undefined) return hit;
    const loading = loadWorkflow(this.store, version);
    this.entries.set(version, loading);
    loading.catch(() => this.entries.delete(version));
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return loading;
  }
}
