/**
 * @cellgraph/server: compiler, engine, executors, stores and state. The `cellgraph` CLI
 * (cli/main.ts) and, later, the HTTP API are built from these parts.
 */
export { compileNotebook } from './compiler';
export type { CompileResult } from './compiler';
export { Engine } from './engine/engine';
export type { EngineOptions, RunHandle, StartRunOptions, TaskLog } from './engine/engine';
export { parseParamAssignments, checkParamKinds, resolveParams } from './engine/params';
export { taskCacheKey } from './engine/cache-key';
export { buildExecutedNotebook } from './engine/executed-notebook';
export { publishWorkflow, loadWorkflow } from './engine/workflow-files';
export type { Executor, AttemptSpec, AttemptHandle, AttemptOutcome } from './executors/executor';
export { LocalExecutor } from './executors/local/local-executor';
export { FilesystemStore, openStore, sha256 } from './stores';
export type { ArtifactStore } from './stores';
export { SqliteStateStore } from './state/sqlite-state-store';
export type { StateStore, CacheEntry } from './state/state-store';
export * from './errors';
