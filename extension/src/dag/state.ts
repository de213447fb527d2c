/** Task states as the DAG shows them: one CSS class per state, and which cells a node owns. */

export type TaskState = 'pending' | 'queued' | 'running' | 'retrying' | 'succeeded' | 'cached' | 'failed' | 'cancelled' | 'skipped';

/** The class a node carries for a task's state (`cg-state-<status>`, see extension/CONTRACT.md). */
export function stateClass(state: TaskState | undefined): string {
  return state === undefined ? '' : `cg-state-${state}`;
}

/** Tasks named by diagnostics: their nodes are marked `cg-has-error`. */
export function tasksWithErrors(diagnostics: { task?: string; severity: string }[]): Set<string> {
  return new Set(diagnostics.filter((d) => d.severity === 'error' && d.task !== undefined).map((d) => d.task as string));
}
