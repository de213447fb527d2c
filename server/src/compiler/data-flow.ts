import * as path from 'node:path';
import ts from 'typescript';
import { Diagnostic, DiagnosticCode } from '@cellgraph/schema';
import { DeclarationKind, TopLevelName, declaredNames } from './declarations';
import { type Partition, runnableCells } from './partition';
import { keepProgram, previousProgram } from './program-reuse';
import { SegmentedSource } from './segments';
import { whyNotSerializable } from './serializable';
import { checkerOptions, virtualHost, virtualPath } from './typescript-host';

/** Who owns a cell: a role, or a task. */
export type CellOwner = { kind: 'setup' } | { kind: 'parameters' } | { kind: 'task'; task: string };

/** A value flowing from one task to another. */
export interface FlowEdge {
  from: string;
  to: string;
  name: string;
  type: string;
}

/** Everything the data-flow pass learns about the notebook. */
export interface DataFlow {
  edges: FlowEdge[];
  /** Per task: outputs (serializable top-level values it declares) with their types. */
  outputs: Map<string, { name: string; type: string }[]>;
  /** Per task: parameters its code reads. */
  paramsRead: Map<string, Set<string>>;
  /** Type texts of parameters (widened), by name. */
  paramTypes: Map<string, string>;
  /** The whole-notebook program, reused by the isolation check. */
  program: ts.Program;
  diagnostics: Diagnostic[];
}

interface Declared extends TopLevelName {
  cell: number;
  owner: CellOwner;
}

/**
 * Infers the typed edges between tasks with the TypeScript checker, over one virtual file
 * holding every non-skipped code cell in notebook order (how the kernel sees them when the
 * notebook runs top to bottom).
 */
export function analyzeDataFlow(notebookPath: string, part: Partition, owners: Map<number, CellOwner>): DataFlow {
  const dir = path.dirname(path.resolve(notebookPath));
  const src = new SegmentedSource();
  const cells = runnableCells(part);
  for (const c of cells) src.cell(c.index, c.source);
  src.glue('\nexport {};\n');
  const fileName = virtualPath(dir, 'notebook');
  const options = checkerOptions(dir);
  const program = ts.createProgram([fileName], options, virtualHost(options, new Map([[fileName, src.source]])), previousProgram(fileName));
  keepProgram(fileName, program);
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(fileName);
  if (!sf) throw new Error('internal: the virtual notebook file was not loaded');

  const diagnostics: Diagnostic[] = [];
  const at = (node: ts.Node, code: DiagnosticCode, message: string, severity: 'error' | 'warning' = 'error') => {
    const loc = src.locate(node.getStart(sf));
    const owner = loc ? owners.get(loc.cell) : undefined;
    diagnostics.push({ severity, code, message, notebook: notebookPath, ...loc, ...(owner?.kind === 'task' ? { task: owner.task } : {}) });
  };

  // Every top-level declaration, with the cell and owner it belongs to.
  const declared = new Map<ts.Node, Declared>();
  const byStatement = new Map<ts.Statement, number>();
  const firstByName = new Map<string, Declared>();
  for (const statement of sf.statements) {
    const loc = src.locate(statement.getStart(sf));
    if (!loc) continue;
    byStatement.set(statement, loc.cell);
    const owner = owners.get(loc.cell);
    if (!owner) continue;
    for (const d of declaredNames(statement)) {
      const entry: Declared = { ...d, cell: loc.cell, owner };
      declared.set(d.node, entry);
      if (d.kind === 'type' || d.kind === 'import') continue;
      const first = firstByName.get(d.name);
      if (first === undefined) {
        firstByName.set(d.name, entry);
        continue;
      }
      const where = (o: CellOwner) => (o.kind === 'task' ? `task ${o.task}` : `the ${o.kind} cell`);
      const same = first.owner.kind === 'task' && owner.kind === 'task' && first.owner.task === owner.task;
      at(
        d.node,
        'duplicate-declaration',
        same
          ? `"${d.name}" is already declared in cell ${first.cell} of the same task; tslab lets a later cell redeclare it, a workflow needs one declaration per name`
          : `"${d.name}" is already declared by ${where(first.owner)} (cell ${first.cell}); each name must have one producer`
      );
    }
  }

  const skipNames = new Map<string, number>();
  for (const c of part.skip) {
    const skipFile = ts.createSourceFile('skip.ts', c.source, ts.ScriptTarget.ES2022, true);
    for (const s of skipFile.statements) for (const d of declaredNames(s)) if (!skipNames.has(d.name)) skipNames.set(d.name, c.index);
  }

  const registered = registeredCodecClasses(sf, (s) => owners.get(byStatement.get(s) ?? -1)?.kind === 'setup');
  const topLevelOf = (node: ts.Node): ts.Statement | undefined => {
    let n: ts.Node = node;
    while (n.parent && n.parent !== sf) n = n.parent;
    return n.parent === sf ? (n as ts.Statement) : undefined;
  };
  const declarationFor = (symbol: ts.Symbol | undefined): Declared | undefined => {
    for (const decl of symbol?.declarations ?? []) {
      if (decl.getSourceFile() !== sf) continue;
      const statement = topLevelOf(decl);
      if (!statement) continue;
      for (const d of declaredNames(statement)) {
        const name = ts.getNameOfDeclaration(decl);
        if (name && d.node === name) return declared.get(d.node);
        if (ts.isVariableDeclaration(decl) && d.node.parent === decl) return declared.get(d.node);
      }
    }
    return undefined;
  };

  const typeTexts = new Map<Declared, string>();
  const typeOf = (d: Declared): { text: string; type: ts.Type } => {
    const symbol = checker.getSymbolAtLocation(d.node);
    let type = symbol ? checker.getTypeOfSymbolAtLocation(symbol, d.node) : checker.getTypeAtLocation(d.node);
    const annotated = ts.isVariableDeclaration(d.node.parent) && d.node.parent.type !== undefined;
    if (!annotated && type.flags & (ts.TypeFlags.StringLiteral | ts.TypeFlags.NumberLiteral | ts.TypeFlags.BooleanLiteral | ts.TypeFlags.BigIntLiteral)) {
      type = checker.getBaseTypeOfLiteralType(type);
    }
    if (!typeTexts.has(d)) typeTexts.set(d, checker.typeToString(type, sf, ts.TypeFormatFlags.NoTruncation));
    return { text: typeTexts.get(d) ?? 'unknown', type };
  };

  const edges = new Map<string, FlowEdge>();
  const paramsRead = new Map<string, Set<string>>(part.tasks.map((t) => [t.name, new Set<string>()]));
  const reported = new Set<string>();
  const once = (key: string) => (reported.has(key) ? false : (reported.add(key), true));

  const visitReference = (id: ts.Identifier, from: Declared['owner'], fromCell: number) => {
    const parent = id.parent;
    let symbol: ts.Symbol | undefined;
    if (ts.isShorthandPropertyAssignment(parent) && parent.name === id) symbol = checker.getShorthandAssignmentValueSymbol(parent);
    else symbol = checker.getSymbolAtLocation(id);
    const d = declarationFor(symbol);
    if (!d || d.node === id) return;
    if (ts.isShorthandPropertyAssignment(parent) && d.cell !== fromCell && once(`shorthand:${id.getStart(sf)}`)) {
      at(id, 'tslab-shorthand', `{ ${id.text} } names "${id.text}" from cell ${d.cell}; tslab 1.0.22 throws ReferenceError on this when run interactively, write { ${id.text}: ${id.text} } (cellgraph runs it either way)`, 'warning');
    }
    if (d.kind === 'type' || d.kind === 'import') return;
    const owner = d.owner;
    if (from.kind !== 'task') {
      if (owner.kind === 'task' && once(`setup:${fromCell}:${id.text}`)) {
        at(id, 'setup-uses-task-value', `the ${from.kind} cell uses "${id.text}", which task ${owner.task} produces; ${from.kind} code runs in every task and cannot depend on one`);
      } else if (from.kind === 'parameters' && owner.kind === 'setup' && once(`param:${id.text}`)) {
        at(id, 'parameter', `the parameters cell uses "${id.text}" from a setup cell; parameters may use only literals, imports and param()`);
      }
      return;
    }
    if (owner.kind === 'parameters') {
      paramsRead.get(from.task)?.add(d.name);
      return;
    }
    if (owner.kind !== 'task' || owner.task === from.task) return;
    if (d.cell > fromCell) {
      if (once(`later:${from.task}:${d.name}`)) at(id, 'later-producer', `"${d.name}" is declared later, in task ${owner.task} (cell ${d.cell}); a task can only use values of tasks above it`);
      return;
    }
    if (d.kind === 'function' || d.kind === 'class') {
      if (once(`fn:${from.task}:${d.name}`)) {
        at(id, 'not-serializable', `${d.kind} "${d.name}" is declared in task ${owner.task} (cell ${d.cell}) and used in task ${from.task}; a ${d.kind} cannot cross a process boundary: move it into a setup cell`);
      }
      return;
    }
    const { text, type } = typeOf(d);
    const key = `${owner.task}->${from.task}:${d.name}`;
    if (edges.has(key)) return;
    const why = whyNotSerializable(checker, type, registered);
    if (why) {
      if (once(`ser:${key}`)) at(id, 'not-serializable', `"${d.name}" (${text}) flows from task ${owner.task} to task ${from.task} but is ${why}; it cannot cross a process boundary`);
      return;
    }
    edges.set(key, { from: owner.task, to: from.task, name: d.name, type: text });
  };

  for (const statement of sf.statements) {
    const cell = byStatement.get(statement);
    const owner = cell === undefined ? undefined : owners.get(cell);
    if (cell === undefined || !owner) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node)) visitReference(node, owner, cell);
      node.forEachChild(visit);
    };
    visit(statement);
  }

  // Names that resolve nowhere: missing producers, or producers only a skipped cell has.
  for (const d of program.getSemanticDiagnostics(sf)) {
    if ((d.code !== 2304 && d.code !== 2552) || d.start === undefined) continue;
    const name = /Cannot find name '([^']+)'/.exec(ts.flattenDiagnosticMessageText(d.messageText, '\n'))?.[1];
    if (!name) continue;
    const loc = src.locate(d.start);
    const owner = loc ? owners.get(loc.cell) : undefined;
    const skipCell = skipNames.get(name);
    diagnostics.push({
      severity: 'error',
      code: skipCell !== undefined ? 'skipped-producer' : 'missing-producer',
      message:
        skipCell !== undefined
          ? `"${name}" is declared only in cell ${skipCell}, which is skipped (role skip); move it into a task or setup cell`
          : `no task, setup or parameters cell declares "${name}"`,
      notebook: notebookPath,
      ...loc,
      ...(owner?.kind === 'task' ? { task: owner.task } : {})
    });
  }

  const outputs = new Map<string, { name: string; type: string }[]>(part.tasks.map((t) => [t.name, []]));
  for (const d of declared.values()) {
    if (d.owner.kind !== 'task' || d.kind !== 'value') continue;
    const { text, type } = typeOf(d);
    if (whyNotSerializable(checker, type, registered) === undefined) outputs.get(d.owner.task)?.push({ name: d.name, type: text });
  }
  const paramTypes = new Map<string, string>();
  for (const d of declared.values()) if (d.owner.kind === 'parameters' && d.kind === 'value') paramTypes.set(d.name, typeOf(d).text);

  return { edges: [...edges.values()], outputs, paramsRead, paramTypes, program, diagnostics };
}

/** Classes given to `registerCodec(Class, …)` in setup cells. */
function registeredCodecClasses(sf: ts.SourceFile, isSetup: (s: ts.Statement) => boolean): Set<string> {
  const out = new Set<string>();
  for (const statement of sf.statements) {
    if (!isSetup(statement)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'registerCodec') {
        const first = node.arguments[0];
        if (first && ts.isIdentifier(first)) out.add(first.text);
      }
      node.forEachChild(visit);
    };
    visit(statement);
  }
  return out;
}

/** The kind of a declared name, for callers that only need the table. */
export type { DeclarationKind };
