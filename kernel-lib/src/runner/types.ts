/**
 * The runner's inputs and results. Structural twins of @cellgraph/schema's TaskResult and
 * CellRun, declared here so notebooks importing this package need nothing else; the
 * server parses what the runner writes with the schema's zod types.
 */
import type { JsonValue } from '../codecs/value-codec';
import type { RunInfo } from '../runtime';

/** A content-addressed value in the artifact store. */
export interface ArtifactRef {
  hash: string;
  size: number;
}

/** Reads and writes the artifact store; the server's stores implement it. */
export interface ArtifactIO {
  getBlob(ref: { hash: string }): Promise<Buffer>;
  putBlob(bytes: Buffer): Promise<ArtifactRef>;
}

/** An nbformat 4 output. */
export type NbOutput =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'display_data'; data: Record<string, JsonValue>; metadata: Record<string, JsonValue>; transient?: { display_id: string } }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

/** One executed cell. */
export interface CellRunResult {
  cell: number;
  outputs: NbOutput[];
  startedAt: string;
  durationMs: number;
}

/** What a task attempt produced. */
export interface TaskRunResult {
  /** `skipped`: the task's `when` condition was false; it produced no outputs. */
  status: 'succeeded' | 'failed' | 'skipped';
  outputs: (ArtifactRef & { name: string; type: string })[];
  metrics: Record<string, number | string | boolean>;
  cells: CellRunResult[];
  error?: { name: string; message: string; cell?: number; line?: number; kind: 'error'; stack?: string };
  startedAt: string;
  durationMs: number;
}

/** Everything runTask needs for one attempt. */
export interface RunTaskOptions {
  /** The generated CommonJS module (see task-context.ts). */
  moduleSource: string;
  /** File name for stack traces; module resolution uses workDir. */
  filename: string;
  /** The directory the task runs in; `require` resolves packages from here, like tslab. */
  workDir: string;
  params: Record<string, JsonValue>;
  inputs: Record<string, ArtifactRef>;
  /** TypeScript type of each output to produce, by name. */
  outputTypes: Record<string, string>;
  io: ArtifactIO;
  info: RunInfo;
  /** Scratch space of this attempt (input artifacts are materialized here). */
  attemptDir: string;
  /**
   * Names of the environment variables holding secrets: their values (read from this
   * process's environment) are replaced by `[secret NAME]` in the log, the recorded cell
   * outputs and the error. Output values are data and are not touched.
   */
  secretEnv?: readonly string[];
}
