import { z } from 'zod';

/** What went wrong, as a stable machine-readable code (the extension and the API key on it). */
export const DiagnosticCode = z.enum([
  'notebook-json', // the file is not JSON
  'notebook-format', // JSON, but not an nbformat 4 notebook
  'annotation', // bad JSON under metadata.cellgraph (unknown field, bad task name, ...)
  'duplicate-task', // two cells start a task with the same name
  'unknown-after', // `after` names a task that does not exist
  'cycle', // the task graph has a cycle
  'missing-producer', // a name no upstream task produces
  'skipped-producer', // a name only a skipped cell declares
  'duplicate-declaration', // two tasks (or two cells of one task) declare one name
  'later-producer', // a task uses a name a later task declares
  'setup-uses-task-value', // a setup/parameters cell reads a value a task produces
  'not-serializable', // a value crossing tasks whose type cannot cross a process boundary
  'type-error', // the TypeScript checker rejects a task as it will run in isolation
  'parameter', // a parameters cell that is not literal consts / param() calls
  'no-tasks', // nothing to run
  'foreach', // a foreach target that is unknown, not an array, or only in a skipped cell; `as` shadowing a name
  'condition', // a `when` that is not a boolean expression over upstream outputs and parameters
  'tslab-shorthand' // warning: `{ a }` naming an earlier cell's binding fails in tslab 1.0.22
]);
export type DiagnosticCode = z.infer<typeof DiagnosticCode>;

/**
 * One compile error or warning. Positions are 1-based and relative to the cell's source,
 * so an editor can jump straight to the spot.
 */
export const Diagnostic = z.object({
  severity: z.enum(['error', 'warning']),
  code: DiagnosticCode,
  message: z.string(),
  notebook: z.string(),
  /** 0-based index of the cell in the notebook, when the problem is in one cell. */
  cell: z.number().int().min(0).optional(),
  /** The task the cell belongs to, when it belongs to one. */
  task: z.string().optional(),
  /** 1-based line and column inside the cell. */
  line: z.number().int().min(1).optional(),
  column: z.number().int().min(1).optional(),
  /** A field path for annotation problems, e.g. `cellgraph.retries`. */
  field: z.string().optional()
});
export type Diagnostic = z.infer<typeof Diagnostic>;

/** Renders a diagnostic the way compilers do: `file:cell 3 (task train):2:5: error: ...`. */
export function formatDiagnostic(d: Diagnostic): string {
  let where = d.notebook;
  if (d.cell !== undefined) where += `: cell ${d.cell}`;
  if (d.task !== undefined) where += ` (task ${d.task})`;
  if (d.line !== undefined) where += `:${d.line}${d.column !== undefined ? `:${d.column}` : ''}`;
  if (d.field !== undefined) where += ` [${d.field}]`;
  return `${where}: ${d.severity} ${d.code}: ${d.message}`;
}
