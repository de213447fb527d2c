import ts from 'typescript';
import { Diagnostic, TaskAnnotation, listTypeText } from '@cellgraph/schema';
import type { Partition, TaskPlan } from './partition';

/**
 * The compile-time half of dynamic tasks (docs/dynamic-workflows.md): `foreach`/`as`,
 * `when` and `trigger`. data-flow.ts resolves names with the checker; this module holds the
 * rules that need no checker, so each reads in one place.
 */

/**
 * A foreach task's element binding, as the checker sees it in the whole-notebook file.
 * `listProducer` is the annotation of the task declaring the list. That file types a foreach
 * task's outputs as one element's values (`U`), while tasks below it receive `U[]`: so the
 * element of a list a foreach task produces is `typeof list` itself, not `(typeof list)[number]`
 * (which took one array level too many off a nested list, issue 17). `seenType` is the element
 * type of a list another task computes from a foreach task's lists, which this file cannot see.
 */
export function elementDeclaration(a: TaskAnnotation, listProducer: TaskAnnotation | undefined, seenType?: string): string | undefined {
  if (a.foreach === undefined || a.as === undefined) return undefined;
  // A list computed below a foreach task: its element as the program seeing the lists typed it.
  if (seenType !== undefined) return `declare const ${a.as}: ${seenType};\n`;
  if (listProducer?.foreach === undefined) return `declare const ${a.as}: (typeof ${a.foreach})[number];\n`;
  return `declare const ${a.as}: ${toleratesFailures(listProducer) ? orUndefined(`typeof ${a.foreach}`) : `typeof ${a.foreach}`};\n`;
}

/** Whether a foreach task may succeed with failed elements, whose values are then `undefined`. */
export function toleratesFailures(a: TaskAnnotation): boolean {
  return a.foreach !== undefined && (a.minSuccessRatio ?? 1) < 1;
}

/** The annotation fields that only make sense together: checked before any type work. */
export function checkDynamicAnnotations(part: Partition, notebookPath: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const t of part.tasks) {
    const a = t.annotation;
    const at = (field: string, message: string, code: Diagnostic['code'] = 'foreach') =>
      out.push({ severity: 'error', code, message, notebook: notebookPath, cell: t.cells[0].index, task: t.name, field: `cellgraph.${field}` });
    if (a.foreach !== undefined && a.as === undefined) at('as', `task ${t.name} has "foreach": "${a.foreach}" but no "as": name the element, e.g. "as": "item"`);
    if (a.as !== undefined && a.foreach === undefined) at('as', `task ${t.name} has "as" but no "foreach": "as" names the element of a foreach list`);
    if (a.foreach === undefined) {
      if (a.maxParallel !== undefined) at('maxParallel', `task ${t.name} has "maxParallel" but no "foreach"`);
      if (a.minSuccessRatio !== undefined) at('minSuccessRatio', `task ${t.name} has "minSuccessRatio" but no "foreach"`);
    }
    if (a.foreach !== undefined && a.as !== undefined && a.foreach === a.as) at('as', `"as" must differ from the foreach list "${a.foreach}"`);
    if (a.foreach !== undefined && a.when !== undefined) {
      at('when', `task ${t.name} has both "foreach" and "when"; put the condition on a task upstream (a condition per element is not supported)`, 'condition');
    }
    if (a.when !== undefined) {
      const parsed = parseCondition(a.when);
      if (parsed.error !== undefined) at('when', `"when" of task ${t.name} is not a TypeScript expression: ${parsed.error}`, 'condition');
    }
  }
  return out;
}

/** Parses a `when` expression on its own: the expression, or why it is not one. */
export function parseCondition(text: string): { expression?: ts.Expression; sourceFile: ts.SourceFile; error?: string } {
  const sourceFile = ts.createSourceFile('when.ts', `(${text}\n);`, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const diagnostics = (sourceFile as unknown as { parseDiagnostics?: ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
  const first = diagnostics[0];
  if (first !== undefined) return { sourceFile, error: ts.flattenDiagnosticMessageText(first.messageText, ' ') };
  const statement = sourceFile.statements[0];
  if (sourceFile.statements.length !== 1 || !ts.isExpressionStatement(statement)) return { sourceFile, error: 'expected one expression' };
  return { expression: statement.expression, sourceFile };
}

/** The free names a condition reads (property names after `.` and object keys are not names). */
export function conditionNames(text: string): string[] {
  const { expression } = parseCondition(text);
  if (expression === undefined) return [];
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const p = node.parent;
      const isMember = (ts.isPropertyAccessExpression(p) && p.name === node) || (ts.isPropertyAssignment(p) && p.name === node);
      if (!isMember && node.text !== 'undefined') names.add(node.text);
    }
    node.forEachChild(visit);
  };
  visit(expression);
  return [...names];
}

/** `U` -> `U[]`, parenthesised when `U` is not a simple type name. */
export const arrayOf = listTypeText;

/** `T` -> `T | undefined` (unchanged when it already admits undefined). */
export function orUndefined(type: string): string {
  return /(^|\|\s*)undefined(\s*\||$)/.test(type) ? type : `${type} | undefined`;
}

/**
 * Tasks that may end `skipped`: those with a condition, and (trigger `all-succeeded`) those
 * downstream of one. A `none-failed` task runs whatever its upstream did, so it stops the spread.
 */
export function maySkip(tasks: TaskPlan[], upstream: Map<string, string[]>): Set<string> {
  const out = new Set<string>();
  for (const t of tasks) {
    // Notebook order is a topological order (a task only reads tasks above it; `after` cycles are reported).
    const a = t.annotation;
    if (a.when !== undefined || ((a.trigger ?? 'all-succeeded') === 'all-succeeded' && (upstream.get(t.name) ?? []).some((u) => out.has(u)))) out.add(t.name);
  }
  return out;
}

/**
 * The type a consumer sees of an upstream value: a foreach producer's `U` becomes `U[]`
 * (`(U | undefined)[]` when failed elements are tolerated), and a `none-failed` consumer
 * sees an upstream that may be skipped as `T | undefined`.
 */
export function typeSeenDownstream(type: string, producer: TaskAnnotation, consumer: TaskAnnotation, producerMaySkip: boolean): string {
  let out = type;
  if (producer.foreach !== undefined) out = arrayOf(toleratesFailures(producer) ? orUndefined(out) : out);
  if (producerMaySkip && consumer.trigger === 'none-failed') out = orUndefined(out);
  return out;
}
