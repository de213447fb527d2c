import type { JsonValue } from './codecs/value-codec';

/** Identifies the task attempt code is running in. */
export interface RunInfo {
  runId: string;
  task: string;
  attempt: number;
}

/** A rich output, as Jupyter's display_data carries it. */
export interface DisplayRequest {
  data: Record<string, JsonValue>;
  metadata: Record<string, JsonValue>;
  /** Set for displays made with newDisplay(): later calls replace the earlier output. */
  displayId?: string;
}

/**
 * What the runner provides to notebook code while a task runs. Absent in an interactive
 * notebook, where params return their defaults and metrics and displays go to the kernel.
 */
export interface RunContext {
  info?: RunInfo;
  /** Parameter values of the run (overrides applied). */
  params: Record<string, JsonValue>;
  metrics: Record<string, number | string | boolean>;
  display(request: DisplayRequest): void;
}

const KEY = Symbol.for('cellgraph.runtime');

interface Holder {
  current?: RunContext;
}

/** Kept on globalThis: two loaded copies of this package (notebook's and runner's) share it. */
function holder(): Holder {
  const g = globalThis as { [KEY]?: Holder };
  g[KEY] ??= {};
  return g[KEY];
}

/** The active run context, if code runs inside a cellgraph task. */
export function currentRun(): RunContext | undefined {
  return holder().current;
}

/** Installs (or clears) the active run context. Used by the runner only. */
export function setCurrentRun(ctx: RunContext | undefined): void {
  holder().current = ctx;
}

/** Which task attempt this code runs in, or undefined in an interactive notebook. */
export function runInfo(): RunInfo | undefined {
  return currentRun()?.info;
}
