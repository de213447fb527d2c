import * as path from 'node:path';
import ts from 'typescript';
import { Diagnostic } from '@cellgraph/schema';
import { keepStatements, parseCell } from './cell-text';
import type { CellOwner, DataFlow } from './data-flow';
import { isHoisted } from './declarations';
import { type Partition, runnableCells } from './partition';
import { SegmentedSource } from './segments';
import { checkerOptions, virtualHost, virtualPath } from './typescript-host';

/** Diagnostic codes another pass already reports in its own words. */
const REPORTED_ELSEWHERE = new Set([
  2304, // Cannot find name: missing/skipped producer
  2552, // Cannot find name ... did you mean: idem
  2451, // Cannot redeclare block-scoped variable: duplicate declaration
  2300, // Duplicate identifier: idem
  2393 // Duplicate function implementation: idem
]);

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
 * Type-checks every task as it will run alone: imports and type declarations of the whole
 * notebook, setup cells, the parameters cell, `declare const` for each input with the type
 * recorded in the IR, and the task's own cells. Cells keep their positions (other code is
 * blanked out), so each diagnostic maps back to the user's cell, line and column.
 * All tasks share one program for speed.
 */
export function checkTasksInIsolation(notebookPath: string, part: Partition, owners: Map<number, CellOwner>, flow: DataFlow): Diagnostic[] {
  const dir = path.dirname(path.resolve(notebookPath));
  const files = new Map<string, string>();
  const sources = new Map<string, { task: string; src: SegmentedSource; whenAt?: number }>();
  const codeCells = runnableCells(part);
  for (const task of part.tasks) {
    const src = new SegmentedSource();
    for (const input of flow.edges.filter((e) => e.to === task.name)) src.glue(`declare const ${input.name}: ${input.type};\n`);
    for (const c of codeCells) {
      const owner = owners.get(c.index);
      const own = owner?.kind !== 'task' || owner.task === task.name;
      if (own) src.cell(c.index, c.source, exportInserts(c.source));
      else src.cell(c.index, keepStatements(c.source, (s) => isHoisted(s) !== undefined));
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
  const options = checkerOptions(dir);
  const program = ts.createProgram([...files.keys()], options, virtualHost(options, files), flow.program);
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const [fileName, { task, src, whenAt }] of sources) {
    const sf = program.getSourceFile(fileName);
    if (!sf) continue;
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf), ...program.getDeclarationDiagnostics(sf)]) {
      if (REPORTED_ELSEWHERE.has(d.code) || d.start === undefined) continue;
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      const loc = src.locate(d.start);
      if (!loc && whenAt !== undefined && d.start >= whenAt) {
        const first = part.tasks.find((t) => t.name === task)?.cells[0].index;
        const notBoolean = d.code === 2322 ? `"when" must be a boolean expression: ${message}` : `"when" does not type-check: TS${d.code}: ${message}`;
        out.push({ severity: 'error', code: 'condition', message: notBoolean, notebook: notebookPath, cell: first, task, field: 'cellgraph.when' });
        continue;
      }
      if (!loc) {
        // An error in the glue: an input's recorded type does not mean the same outside its producer.
        const line = sf.getLineAndCharacterOfPosition(d.start).line;
        const decl = sf.text.split('\n')[line] ?? '';
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
