/**
 * @cellgraph/kernel: what cellgraph notebooks import, in the tslab kernel and in task
 * processes alike, plus the task runner the executors use.
 *
 * ```ts
 * import { param, metric, display, artifact } from "@cellgraph/kernel";
 * import { runs } from "@cellgraph/kernel"; // results of runs, back in a notebook
 * ```
 */
export { param, ParamError } from './params';
export type { ParamSchema } from './params';
export { metric, metrics } from './metrics';
export type { MetricValue } from './metrics';
export { display, newDisplay } from './display';
export type { Display } from './display';
export { artifact, FileArtifact, DirArtifact } from './artifacts';
export type { BlobRef, DirEntry } from './artifacts';
export { encodeValue, decodeValue, registerCodec, contentHash, CodecError } from './codecs/value-codec';
export type { ClassCodec, JsonValue } from './codecs/value-codec';
export { runs, connect, Runs, Run, Task, CellgraphApiError } from './client/runs';
export type { WorkflowOutputs, KnownWorkflow, TaskOf, OutputsOf, RunSummaryRow } from './client/runs';
export { serverConfigFromEnv } from './client/server-config';
export type { ServerConfig } from './client/server-config';
export { runInfo } from './runtime';
export type { RunInfo } from './runtime';
export { evaluateCondition, runTask, runParamsModule } from './runner/run-task';
export { SecretRedactor, MIN_SECRET_LENGTH } from './runner/secret-redactor';
export type { RunParamsOptions } from './runner/run-task';
export type { TaskContext } from './runner/task-context';
export type { ArtifactIO, ArtifactRef, RunTaskOptions, TaskRunResult, CellRunResult, NbOutput } from './runner/types';
