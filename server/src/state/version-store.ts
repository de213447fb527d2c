/** A promoted, frozen workflow version as the state database records it. */
export interface VersionRecord {
  workflow: string;
  /** 1, 2, 3 ... per workflow, in promotion order. */
  number: number;
  /** The IR content hash: the version's identity. */
  version: string;
  notebookPath: string;
  /** Where runs of this version execute (packages resolve from here). */
  workDir: string;
  promotedAt: string;
}

/** Which version of a workflow: by its number or its content hash. */
export type VersionSelector = { number: number } | { version: string };

/**
 * Promotions and run lineage, beside the run state. A separate interface from
 * StateStore so the engine keeps depending only on what it uses; SQLite implements
 * both on one database, and a Postgres store would do the same.
 */
export interface WorkflowVersionStore {
  /**
   * Records a promotion. The same content promoted again returns the existing record
   * with `created: false` (one version per content hash); numbering is per workflow.
   * The workflow row (StateStore.saveWorkflow) must exist first.
   */
  promoteVersion(v: { workflow: string; version: string; notebookPath: string; workDir: string }): Promise<{ created: boolean; record: VersionRecord }>;
  /** Every promoted workflow with its version count and latest version. */
  listPromotedWorkflows(): Promise<{ workflow: string; versions: number; latest: VersionRecord }[]>;
  /** Versions of one workflow, oldest first; NotFoundError when it was never promoted. */
  listVersions(workflow: string): Promise<VersionRecord[]>;
  /** Throws NotFoundError for an unknown workflow or version. */
  getVersion(workflow: string, which: VersionSelector): Promise<VersionRecord>;
  /** Remembers that `runId` retries `retryOf`. */
  setRetryOf(runId: string, retryOf: string): Promise<void>;
  getRetryOf(runId: string): Promise<string | undefined>;
}
