/**
 * The contract between the compiler's generated task modules and the runner.
 *
 * A task module is CommonJS whose `module.exports` is
 * `async function (__cg: TaskContext): Promise<Record<string, unknown>>`. Its body is:
 *
 * ```js
 * // imports hoisted from every cell, as require() calls (top of the file, outside the function)
 * module.exports = async function (__cg) {
 *   __cg.enterCell(0);  ...setup cell 0...
 *   __cg.enterCell(2);  const learningRate = __cg.param("learningRate", 0.1);   // parameters cell
 *   const { rows, labels } = await __cg.loadInputs();
 *   __cg.enterCell(4);  ...task cell 4...;  __cg.result(lastExpression);
 *   __cg.enterCell(5);  ...task cell 5...
 *   return { model, accuracy };            // the task's output ports
 * };
 * ```
 *
 * All cells share one function scope, so bindings flow between cells as they do in tslab,
 * top-level `await` works, and `{ a }` shorthand naming an earlier cell's binding works
 * (tslab 1.0.22 throws ReferenceError there; the compiler warns so the notebook is fixed for
 * interactive use too).
 *
 * The parameters module has the same shape: imports, the parameters cell rewritten with
 * `__cg.param`, and `return { ...every parameter }`; `loadInputs` is never called there.
 */
export interface TaskContext {
  /** Output produced from now on (stdout, stderr, display data, errors) belongs to this cell. */
  enterCell(cell: number): void;
  /** Records a cell's last expression value as its `execute_result`, as tslab shows it. */
  result(value: unknown): void;
  /** A literal parameter: the run's override when given, else the default from the notebook. */
  param<T>(name: string, defaultValue: T): T;
  /** Decodes the task's inputs from the artifact store. Called once, after setup cells ran (codecs are registered there). */
  loadInputs(): Promise<Record<string, unknown>>;
  /**
   * Ends the attempt as `skipped` (a task whose `when` was false): the module returns what
   * this returns, `if (!(condition)) return __cg.skip();`, right after loading its inputs.
   */
  skip(): Record<string, unknown>;
}

/** What {@link TaskContext.skip} returns: recognised by identity, so no output name can collide with it. */
export const SKIPPED: Record<string, unknown> = Object.freeze({});
