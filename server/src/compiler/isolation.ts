import * as path from 'node:path';
import ts from 'typescript';
import { Diagnostic } from '@cellgraph/schema';
import { type CheckCache, MemoryCheckCache, type RawDiagnostic, checkKey, environmentKey } from './check-cache';
import { keepStatements, parseCell } from './cell-text';
import { type CellOwner, type DataFlow, missingNameDiagnostic } from './data-flow';
import { isHoisted } from './declarations';
import { type Partition, runnableCells } from './partition';
import { keepProgram, previousProgram } from './program-reuse';
import { SegmentedSource } from './segments';
import { checkerOptions, virtualHost, virtualPath } from './typescript-host';

/** Diagnostic codes another pass already reports in its own words. */
const REPORTED_ELSEWHERE = new Set([
  2304, // Cannot find name: missing/skipped producer (MISSING_NAME), or another pass's finding
  2552, // Cannot find name ... did you mean: idem
  2451, // Cannot redeclare block-scoped variable: duplicate declaration
  2300, // Duplicate identifier: idem
  2393 // Duplicate function implementation: idem
]);

/** "Cannot find name": a missing producer when the whole notebook does not declare the name either. */
const MISSING_NAME = new Set([2304, 2552]);

/** "Exported variable ... cannot be named" and its siblings: tslab emits declarations for every cell. */
const DECLARATION_CODES = new Set([4023, 4024, 4025, 4026, 4027, 4058, 4059, 4060, 4078, 4081, 4082, 4083]);
const TSLAB_EXPORT_HINT = ' (tslab exports every top-level binding of a cell and fails when its type cannot be named: give it an explicit type annotation)';
/** TS2307 for cellgraph's own library: the notebook's folder has no cellgraph installed above it. */
const KERNEL_MISSING_HINT =
  ' (tslab and cellgraph resolve @cellgraph/kernel from node_modules in the notebook\'s folder or a parent: run `cellgraph init` in the folder JupyterLab starts in, or `npm install @cellgraph/server` there)';
const hintFor = (code: number, message: string): string =>
  DECLARATION_CODES.has(code) ? TSLAB_EXPORT_HINT : code === 2307 && message.includes("'@cellgraph/kernel'") ? KERNEL_MISSING_HINT : '';

/**
 * tslab turns a cell's top-level declarations into exports; checking them exported here
 * surfaces the same declaration errors the kernel would stop on.
 */
function exportInserts(source: string): { at: number; text: string }[] {
  const sf = parseCell(source);
  const inserts: { at: number; text: string }[] = [];
  for (const s of sf.statements) {
    const exported = ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DeclareKeyword);
    const declares =
      ts.isVariableStatement(s) ||
      (ts.isFunctionDeclaration(s) && s.name !== undefined && s.body !== undefined) ||
      (ts.isClassDeclaration(s) && s.name !== undefined) ||
      ts.isInterfaceDeclaration(s) ||
      ts.isTypeAliasDeclaration(s) ||
      ts.isEnumDeclaration(s);
    if (declares && !exported) inserts.push({ at: s.getStart(sf), text: 'export ' });
  }
  return inserts;
}

/**
 * This process's task checks: a compile worker (or a server, or a test) keeps them for
 * every later compile, so an edit re-checks only the tasks whose generated file changed.
 */
export const processCheckCache = new MemoryCheckCache();

/**
 * Type-checks every task as it will run alone: imports and type declarations of the whole
 * notebook, setup cells, the parameters cell, `declare const` for each input with the type
 * recorded in the IR, and the task's own cells. Cells keep their positions (other code is
 * left out, or blanked inside a cell), so each diagnostic maps back to the user's cell,
 * line and column. Each task's result is cached by its generated file's text and the
 * environment (see check-cache.ts); the tasks not in `cache` share one program for speed.
 */
export function checkTasksInIsolation(
  notebookPath: string,
  part: Partition,
  owners: Map<number, CellOwner>,
  flow: DataFlow,
  cache: CheckCache = processCheckCache
): Diagnostic[] {
  const dir = path.dirname(path.resolve(notebookPath));
  const files = new Map<string, string>();
  const sources = new Map<string, { task: string; src: SegmentedSource; whenAt?: number }>();
  const codeCells = runnableCells(part);
  // What a cell contributes to other tasks (its imports and types) is the same for every task.
  const hoisted = new Map<number, string>();
  const hoistedOf = (c: { index: number; source: string }): string => {
    let kept = hoisted.get(c.index);
    if (kept === undefined) {
      kept = keepStatements(c.source, (s) => isHoisted(s) !== undefined);
      hoisted.set(c.index, kept);
    }
    return kept;
  };
  // Another task's cell with nothing hoisted adds only blanks: leaving it out keeps each
  // task's file the size of the task, not of the notebook. Worked out once, not per task.
  const shared = codeCells.filter((c) => owners.get(c.index)?.kind !== 'task' || hoistedOf(c).trim().length > 0);
  const inserts = new Map<number, { at: number; text: string }[]>();
  const insertsOf = (c: { index: number; source: string }) => {
    let found = inserts.get(c.index);
    if (found === undefined) inserts.set(c.index, (found = exportInserts(c.source)));
    return found;
  };
  const inputsOf = new Map<string, DataFlow['edges']>();
  for (const e of flow.edges) {
    const list = inputsOf.get(e.to);
    if (list === undefined) inputsOf.set(e.to, [e]);
    else list.push(e);
  }
  for (const task of part.tasks) {
    const src = new SegmentedSource();
    for (const input of inputsOf.get(task.name) ?? []) src.glue(`declare const ${input.name}: ${input.type};\n`);
    const ownCells = new Set(task.cells.map((c) => c.index));
    const cells = [...shared.filter((c) => !ownCells.has(c.index)), ...task.cells].sort((a, b) => a.index - b.index);
    for (const c of cells) {
      const owner = owners.get(c.index);
      const own = owner?.kind !== 'task' || owner.task === task.name;
      if (own) src.cell(c.index, c.source, insertsOf(c));
      else src.cell(c.index, hoistedOf(c));
    }
    // The condition is checked where the module evaluates it: after the task's inputs, setup and parameters.
    const when = task.annotation.when;
    const whenAt = when !== undefined ? src.source.length + 1 : undefined;
    if (when !== undefined) src.glue(`\nconst __cellgraph_when: boolean = (${when}\n);\n`);
    src.glue('\nexport {};\n');
    const fileName = virtualPath(dir, `task_${task.name}`);
    files.set(fileName, src.source);
    sources.set(fileName, { task: task.name, src, whenAt });
  }
  const raw = checkFiles(notebookPath, files, checkerOptions(dir), flow.program, cache);
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const [fileName, { task, src, whenAt }] of sources) {
    for (const d of raw.get(fileName) ?? []) {
      const message = d.message;
      const loc = src.locate(d.start);
      if (MISSING_NAME.has(d.code) && loc !== undefined) {
        const missing = missingNameDiagnostic(flow, notebookPath, message, loc, owners.get(loc.cell));
        const key = `${loc.cell}:${loc.line}:${loc.column}:missing`;
        if (missing !== undefined && !seen.has(key)) out.push(missing);
        seen.add(key);
      }
      if (REPORTED_ELSEWHERE.has(d.code)) continue;
      if (!loc && whenAt !== undefined && d.start >= whenAt) {
        const first = part.tasks.find((t) => t.name === task)?.cells[0].index;
        const notBoolean = d.code === 2322 ? `"when" must be a boolean expression: ${message}` : `"when" does not type-check: TS${d.code}: ${message}`;
        out.push({ severity: 'error', code: 'condition', message: notBoolean, notebook: notebookPath, cell: first, task, field: 'cellgraph.when' });
        continue;
      }
      if (!loc) {
        // An error in the glue: an input's recorded type does not mean the same outside its producer.
        const decl = lineAt(src.source, d.start);
        const first = part.tasks.find((t) => t.name === task)?.cells[0].index;
        out.push({ severity: 'error', code: 'type-error', message: `an input's type cannot be expressed in task ${task} (${decl.trim()}): ${message}`, notebook: notebookPath, cell: first, task });
        continue;
      }
      const owner = owners.get(loc.cell);
      const key = `${loc.cell}:${loc.line}:${loc.column}:${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        severity: d.category === ts.DiagnosticCategory.Warning ? 'warning' : 'error',
        code: 'type-error',
        message: `TS${d.code}: ${message}${hintFor(d.code, message)}`,
        notebook: notebookPath,
        ...loc,
        ...(owner?.kind === 'task' ? { task: owner.task } : {})
      });
    }
  }
  return out;
}

/** The line of `text` holding `offset`. */
function lineAt(text: string, offset: number): string {
  const end = text.indexOf('\n', offset);
  return text.slice(text.lastIndexOf('\n', offset - 1) + 1, end === -1 ? undefined : end);
}

/**
 * The syntactic, semantic and declaration diagnostics of each generated file: from `cache`
 * when the same file was checked in the same environment, otherwise from one program over
 * the files not cached (built on `base`, the notebook's program, to reuse its module
 * resolution), whose answers are then cached.
 */
function checkFiles(notebookPath: string, files: Map<string, string>, options: ts.CompilerOptions, base: ts.Program, cache: CheckCache): Map<string, RawDiagnostic[]> {
  const environment = environmentKey(base);
  const out = new Map<string, RawDiagnostic[]>();
  const missed = new Map<string, string>();
  const keys = new Map<string, string>();
  for (const [fileName, text] of files) {
    const key = checkKey(environment, fileName, text);
    const hit = cache.get(key);
    if (hit !== undefined) out.set(fileName, hit);
    else {
      missed.set(fileName, text);
      keys.set(fileName, key);
    }
  }
  if (missed.size === 0) return out;
  // Tasks checked already join the program when the last program of these files had them
  // (with their parse when the text is the same): then the program's root files are the last
  // one's, and TypeScript reuses its structure and module resolution instead of resolving
  // every library and @types package again (a compile whose root files differ from the last
  // one's pays that in full: two thirds of an edit's task check). An edit that restores a
  // task's earlier text (a cache hit) keeps the task in the program, parsed afresh, not
  // checked. Without a last program (a fresh CLI process) only the files to check are parsed.
  // A file to check is parsed afresh, so its imports are resolved again.
  const previous = previousProgram(notebookPath, 'tasks');
  const reusable = (fileName: string, text: string): ts.SourceFile | undefined => {
    if (missed.has(fileName)) return undefined;
    const sf = previous?.getSourceFile(fileName);
    return sf?.text === text ? sf : undefined;
  };
  const roots = [...files.keys()].filter((fileName) => missed.has(fileName) || previous?.getSourceFile(fileName) !== undefined);
  const program = ts.createProgram(roots, options, virtualHost(options, files, reusable), previous ?? base);
  keepProgram(notebookPath, 'tasks', program);
  for (const fileName of missed.keys()) {
    const sf = program.getSourceFile(fileName);
    if (!sf) continue;
    const found: RawDiagnostic[] = [];
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf), ...program.getDeclarationDiagnostics(sf)]) {
      if (d.start === undefined) continue;
      found.push({ code: d.code, start: d.start, category: d.category, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') });
    }
    out.set(fileName, found);
    const key = keys.get(fileName);
    if (key !== undefined) cache.set(key, found);
  }
  return out;
}
