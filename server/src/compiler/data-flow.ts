import * as path from 'node:path';
import ts from 'typescript';
import { Diagnostic, DiagnosticCode, TaskAnnotation } from '@cellgraph/schema';
import { keepStatements } from './cell-text';
import { DeclarationKind, TopLevelName, declaredNames, isHoisted } from './declarations';
import { arrayOf, conditionNames, elementDeclaration, orUndefined, toleratesFailures } from './dynamic';
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
  /** A foreach task's element binding: `name` is one element of the producer's array `elementOf`. */
  elementOf?: string;
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
  /**
   * Every name the whole-notebook file declares at top level (any kind, foreach elements
   * included): a name the checker cannot find in a task's own file is missing from the
   * notebook only when it is not one of these (see {@link missingNameDiagnostic}).
   */
  topLevelNames: Set<string>;
  /** Names declared only in skipped cells, with the first such cell. */
  skipNames: Map<string, number>;
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
 *
 * That file sees a foreach task's outputs as one element's values, so a foreach list another
 * task computes from them is typed there as if from one element. When the program seeing
 * the lists types such a list's element differently, the file is checked again with the
 * element declared as that program saw it, until nothing changes (once per such list in a
 * chain at most; a notebook without such a list is checked once).
 */
export function analyzeDataFlow(notebookPath: string, part: Partition, owners: Map<number, CellOwner>): DataFlow {
  const seenElements = new Map<string, string>();
  // Each pass can settle one more link of a chain foreach -> list -> foreach; the bound only guards against a cycle of type texts.
  const bound = part.tasks.filter((t) => t.annotation.foreach !== undefined).length + 1;
  for (let passes = 1; ; passes += 1) {
    const pass = analyzePass(notebookPath, part, owners, seenElements);
    const changed = [...pass.listElements].filter(([list, element]) => element !== pass.elementsUsed.get(list) && seenElements.get(list) !== element);
    if (changed.length === 0 || passes >= bound) return pass.flow;
    for (const [list, element] of changed) seenElements.set(list, element);
  }
}

/** One check of the whole-notebook file, with the elements of `seenElements`' lists declared as given. */
function analyzePass(
  notebookPath: string,
  part: Partition,
  owners: Map<number, CellOwner>,
  seenElements: Map<string, string>
): { flow: DataFlow; listElements: Map<string, string>; elementsUsed: Map<string, string> } {
  const dir = path.dirname(path.resolve(notebookPath));
  const src = new SegmentedSource();
  const cells = runnableCells(part);
  const firstCellOf = new Map(part.tasks.map((t) => [t.cells[0].index, t]));
  const foreachListProducers = listsOfForeachTasks(part);
  for (const c of cells) {
    // A foreach task's element is declared where the task starts, typed from its list.
    const element = firstCellOf.get(c.index);
    const list = element?.annotation.foreach ?? '';
    const declaration = element ? elementDeclaration(element.annotation, foreachListProducers.get(list), seenElements.get(list)) : undefined;
    if (declaration !== undefined) src.glue(declaration);
    src.cell(c.index, c.source);
  }
  src.glue('\nexport {};\n');
  const fileName = virtualPath(dir, 'notebook');
  const options = checkerOptions(dir);
  const program = ts.createProgram([fileName], options, virtualHost(options, new Map([[fileName, src.source]])), previousProgram(notebookPath, 'notebook'));
  keepProgram(notebookPath, 'notebook', program);
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
  const topLevelNames = new Set(part.tasks.flatMap((t) => (t.annotation.foreach !== undefined && t.annotation.as !== undefined ? [t.annotation.as] : [])));
  for (const statement of sf.statements) {
    const loc = src.locate(statement.getStart(sf));
    if (!loc) continue;
    byStatement.set(statement, loc.cell);
    const owner = owners.get(loc.cell);
    if (!owner) continue;
    for (const d of declaredNames(statement)) {
      topLevelNames.add(d.name);
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
    const type = declaredType(checker, d.node);
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
    // Only a name some top-level statement declares can resolve to one: asking the checker
    // about every other identifier (property names, locals) type-checked the whole notebook
    // again on every edit, for nothing.
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) && topLevelNames.has(node.text)) visitReference(node, owner, cell);
      node.forEachChild(visit);
    };
    visit(statement);
  }
  // Names that resolve nowhere are found by the tasks' own checks (isolation.ts), which are
  // cached per task: a full check of this file only for them cost every edit a type check
  // of the whole notebook. Every cell is checked in some task's file, whose top-level names
  // are a subset of this file's, so a name unknown here is unknown there (and reported via
  // missingNameDiagnostic).

  const addEdge = (d: Declared, to: string, name: string, type: ts.Type, text: string, elementOf?: string): string | undefined => {
    const why = whyNotSerializable(checker, type, registered);
    if (why) return why;
    const key = `${d.owner.kind === 'task' ? d.owner.task : ''}->${to}:${name}`;
    if (d.owner.kind === 'task' && !edges.has(key)) edges.set(key, { from: d.owner.task, to, name, type: text, ...(elementOf !== undefined ? { elementOf } : {}) });
    return undefined;
  };
  resolveDynamicNames({
    notebookPath,
    part,
    checker,
    firstByName,
    valueNamesOf: (name) => [...declared.values()].filter((d) => d.name === name && d.kind !== 'type'),
    skipNames,
    typeOf,
    annotationOf: (task) => part.tasks.find((t) => t.name === task)?.annotation,
    addEdge,
    paramsRead,
    diagnostics,
    seenElements,
    declaredElementType: (as) => {
      for (const s of sf.statements) {
        if (!ts.isVariableStatement(s) || src.locate(s.getStart(sf)) !== undefined) continue;
        const decl = s.declarationList.declarations.find((d) => ts.isIdentifier(d.name) && d.name.text === as);
        if (decl) return checker.getTypeAtLocation(decl.name);
      }
      return undefined;
    }
  });
  // Before the program seeing the lists retypes them: what this file declared each element as.
  const elementsUsed = new Map([...edges.values()].flatMap((e) => (e.elementOf !== undefined ? [[e.elementOf, e.type] as const] : [])));

  const outputs = new Map<string, { name: string; type: string }[]>(part.tasks.map((t) => [t.name, []]));
  for (const d of declared.values()) {
    if (d.owner.kind !== 'task' || d.kind !== 'value') continue;
    const { text, type } = typeOf(d);
    if (whyNotSerializable(checker, type, registered) === undefined) outputs.get(d.owner.task)?.push({ name: d.name, type: text });
  }
  const paramTypes = new Map<string, string>();
  for (const d of declared.values()) if (d.owner.kind === 'parameters' && d.kind === 'value') paramTypes.set(d.name, typeOf(d).text);

  // Below a foreach task its outputs are lists: type what other tasks declare from them again, seeing the lists.
  const foreachTasks = new Set(part.tasks.filter((t) => t.annotation.foreach !== undefined && t.annotation.as !== undefined).map((t) => t.name));
  let listElements = new Map<string, string>();
  if (foreachTasks.size > 0) {
    const lists = new Set(part.tasks.flatMap((t) => (t.annotation.foreach !== undefined ? [t.annotation.foreach] : [])));
    const retyped = typesSeeingLists({ dir, fileName, options, program, part, owners, outputs, foreachTasks, lists });
    listElements = retyped.elements;
    for (const [task, outs] of outputs) if (!foreachTasks.has(task)) for (const o of outs) o.type = retyped.types.get(o.name) ?? o.type;
    for (const e of edges.values()) {
      if (foreachTasks.has(e.from)) continue;
      e.type = (e.elementOf !== undefined ? retyped.elements.get(e.elementOf) : retyped.types.get(e.name)) ?? e.type;
    }
  }

  return { flow: { edges: [...edges.values()], outputs, paramsRead, paramTypes, program, topLevelNames, skipNames, diagnostics }, listElements, elementsUsed };
}

/**
 * The diagnostic for a name a task's own check could not find (TS2304, TS2552), when the
 * whole notebook does not declare it either: a missing producer, or one only a skipped cell
 * has. Undefined when the notebook declares it (another pass explains why the task cannot
 * see it: a later producer, a function, a value that cannot cross a process boundary).
 */
export function missingNameDiagnostic(
  flow: Pick<DataFlow, 'topLevelNames' | 'skipNames'>,
  notebookPath: string,
  message: string,
  loc: { cell: number; line: number; column: number },
  owner: CellOwner | undefined
): Diagnostic | undefined {
  const name = /Cannot find name '([^']+)'/.exec(message)?.[1];
  if (name === undefined || flow.topLevelNames.has(name)) return undefined;
  const skipCell = flow.skipNames.get(name);
  return {
    severity: 'error',
    code: skipCell !== undefined ? 'skipped-producer' : 'missing-producer',
    message:
      skipCell !== undefined
        ? `"${name}" is declared only in cell ${skipCell}, which is skipped (role skip); move it into a task or setup cell`
        : `no task, setup or parameters cell declares "${name}"`,
    notebook: notebookPath,
    ...loc,
    ...(owner?.kind === 'task' ? { task: owner.task } : {})
  };
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

/**
 * The values foreach tasks declare, by name, with the declaring task's annotation: a foreach
 * over one of them iterates a list of that task's elements' values (names are unique across
 * tasks; a duplicate is reported elsewhere).
 */
function listsOfForeachTasks(part: Partition): Map<string, TaskAnnotation> {
  const out = new Map<string, TaskAnnotation>();
  for (const t of part.tasks) {
    if (t.annotation.foreach === undefined || t.annotation.as === undefined) continue;
    for (const c of t.cells) {
      const file = ts.createSourceFile('cell.ts', c.source, ts.ScriptTarget.ES2022, true);
      for (const s of file.statements) for (const d of declaredNames(s)) if (d.kind === 'value') out.set(d.name, t.annotation);
    }
  }
  return out;
}

/** The kind of a declared name, for callers that only need the table. */
export type { DeclarationKind };

/** What {@link resolveDynamicNames} needs from the data-flow pass. */
interface DynamicContext {
  notebookPath: string;
  part: Partition;
  checker: ts.TypeChecker;
  firstByName: Map<string, Declared>;
  valueNamesOf(name: string): Declared[];
  skipNames: Map<string, number>;
  typeOf(d: Declared): { text: string; type: ts.Type };
  /** The annotation of a task, by name. */
  annotationOf(task: string): TaskAnnotation | undefined;
  addEdge(d: Declared, to: string, name: string, type: ts.Type, text: string, elementOf?: string): string | undefined;
  paramsRead: Map<string, Set<string>>;
  diagnostics: Diagnostic[];
  /** Element types of lists computed below a foreach task, as the program seeing the lists typed them. */
  seenElements: Map<string, string>;
  /** The type this file declared a foreach task's element binding with. */
  declaredElementType(as: string): ts.Type | undefined;
}

/**
 * Resolves the names dynamic tasks carry in their annotations: a foreach list must be an
 * array output of a task above (its element becomes the `as` input, typed as the element),
 * `as` must not shadow a notebook name, and a `when` condition may read only upstream
 * outputs, parameters and setup code (what it reads becomes inputs, like code does).
 */
function resolveDynamicNames(c: DynamicContext): void {
  for (const t of c.part.tasks) {
    const a = t.annotation;
    const first = t.cells[0].index;
    const report = (code: DiagnosticCode, field: string, message: string) =>
      c.diagnostics.push({ severity: 'error', code, message, notebook: c.notebookPath, cell: first, task: t.name, field: `cellgraph.${field}` });
    /** Where a name comes from, or why it cannot be read from this task. */
    const upstreamValue = (name: string, what: string, code: DiagnosticCode, field: string): Declared | 'param' | 'setup' | undefined => {
      const d = c.firstByName.get(name);
      if (d === undefined) {
        const skipCell = c.skipNames.get(name);
        if (skipCell !== undefined) report(code, field, `${what} "${name}" is declared only in cell ${skipCell}, which is skipped (role skip); move it into a task`);
        else if (c.valueNamesOf(name).some((x) => x.kind === 'import')) return 'setup';
        else report(code, field, `${what} "${name}" is not declared by any task, setup or parameters cell`);
        return undefined;
      }
      if (d.owner.kind === 'parameters') return 'param';
      if (d.owner.kind === 'setup') return 'setup';
      if (d.owner.kind === 'task' && d.owner.task === t.name) {
        report(code, field, `${what} "${name}" is declared by task ${t.name} itself; it must come from a task above`);
        return undefined;
      }
      if (d.cell > first) {
        report(code, field, `${what} "${name}" is declared later, in task ${d.owner.kind === 'task' ? d.owner.task : '?'} (cell ${d.cell}); it must come from a task above`);
        return undefined;
      }
      if (d.kind === 'function' || d.kind === 'class') {
        report(code, field, `${what} "${name}" is a ${d.kind}; it cannot cross a process boundary`);
        return undefined;
      }
      return d;
    };

    if (a.foreach !== undefined && a.as !== undefined) {
      const shadowed = c.valueNamesOf(a.as)[0];
      if (shadowed !== undefined) {
        const where = shadowed.owner.kind === 'task' ? `task ${shadowed.owner.task}` : `the ${shadowed.owner.kind} cell`;
        report('foreach', 'as', `"as": "${a.as}" shadows "${a.as}" declared by ${where} (cell ${shadowed.cell}); pick a name the notebook does not use`);
      }
      const d = upstreamValue(a.foreach, 'the foreach list', 'foreach', 'foreach');
      if (d === 'param' || d === 'setup') {
        report('foreach', 'foreach', `the foreach list "${a.foreach}" is declared in the ${d === 'param' ? 'parameters' : 'setup'} cell; it must be an output of a task above (compute it in a task)`);
      } else if (d !== undefined) {
        const { text, type } = c.typeOf(d);
        // This file types a foreach task's output as one element's value U; below it the list is
        // U[] (or (U | undefined)[]), whatever U is, so its element is U itself.
        const producer = d.owner.kind === 'task' ? c.annotationOf(d.owner.task) : undefined;
        const ofForeach = producer?.foreach !== undefined;
        const seen = c.seenElements.get(a.foreach);
        const element = seen !== undefined ? c.declaredElementType(a.as) : ofForeach ? type : elementType(c.checker, type);
        if (element === undefined) {
          report('foreach', 'foreach', `the foreach list "${a.foreach}" is ${text}, not an array; foreach needs T[] or readonly T[]`);
        } else {
          const checked = seen ?? (ofForeach ? text : c.checker.typeToString(element, undefined, ts.TypeFormatFlags.NoTruncation));
          // Not from the checker: the notebook's checker is not strict, so it would drop the undefined.
          const elementText = producer !== undefined && toleratesFailures(producer) ? orUndefined(checked) : checked;
          const why = c.addEdge(d, t.name, a.as, element, elementText, a.foreach);
          if (why) report('not-serializable', 'foreach', `an element of "${a.foreach}" (${elementText}) is ${why}; it cannot cross a process boundary`);
        }
      }
    }

    if (a.when !== undefined) {
      for (const name of conditionNames(a.when)) {
        const d = upstreamValue(name, '"when" reads', 'condition', 'when');
        if (d === 'param') c.paramsRead.get(t.name)?.add(name);
        else if (d !== undefined && d !== 'setup') {
          const { text, type } = c.typeOf(d);
          const why = c.addEdge(d, t.name, d.name, type, text);
          if (why) report('condition', 'when', `"when" reads "${name}" (${text}), which is ${why}`);
        }
      }
    }
  }
}

/** The element type of an array or readonly array type, else undefined. */
function elementType(checker: ts.TypeChecker, type: ts.Type): ts.Type | undefined {
  if (!checker.isArrayType(type)) return undefined;
  return checker.getTypeArguments(type as ts.TypeReference)[0];
}

/** A declared name's type, literals widened unless annotated (`const n = 3` is `number`). */
function declaredType(checker: ts.TypeChecker, node: ts.Node): ts.Type {
  const symbol = checker.getSymbolAtLocation(node);
  const type = symbol ? checker.getTypeOfSymbolAtLocation(symbol, node) : checker.getTypeAtLocation(node);
  const annotated = ts.isVariableDeclaration(node.parent) && node.parent.type !== undefined;
  const literal = ts.TypeFlags.StringLiteral | ts.TypeFlags.NumberLiteral | ts.TypeFlags.BooleanLiteral | ts.TypeFlags.BigIntLiteral;
  return !annotated && type.flags & literal ? checker.getBaseTypeOfLiteralType(type) : type;
}

/**
 * The whole-notebook file sees a foreach task's outputs as one element's values (that is how
 * its cells read). A second program replaces each foreach task's cells by declarations of
 * its outputs as lists, as tasks below it receive them, and gives the type text of every
 * value other tasks declare, by name (names are unique across tasks).
 */
function typesSeeingLists(input: {
  dir: string;
  fileName: string;
  options: ts.CompilerOptions;
  program: ts.Program;
  part: Partition;
  owners: Map<number, CellOwner>;
  outputs: Map<string, { name: string; type: string }[]>;
  foreachTasks: Set<string>;
  /** The foreach lists: their element types are read here too (a list computed below a foreach task from its lists). */
  lists: Set<string>;
}): { types: Map<string, string>; elements: Map<string, string> } {
  const src = new SegmentedSource();
  for (const c of runnableCells(input.part)) {
    const owner = input.owners.get(c.index);
    const task = owner?.kind === 'task' && input.foreachTasks.has(owner.task) ? input.part.tasks.find((t) => t.name === owner.task) : undefined;
    if (task === undefined) {
      src.cell(c.index, c.source);
      continue;
    }
    if (task.cells[0].index === c.index) {
      const tolerant = toleratesFailures(task.annotation);
      for (const o of input.outputs.get(task.name) ?? []) src.glue(`declare const ${o.name}: ${arrayOf(tolerant ? orUndefined(o.type) : o.type)};\n`);
    }
    src.glue(`${keepStatements(c.source, (s) => isHoisted(s) !== undefined)}\n`);
  }
  src.glue('\nexport {};\n');
  const program = ts.createProgram([input.fileName], input.options, virtualHost(input.options, new Map([[input.fileName, src.source]])), input.program);
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(input.fileName);
  const types = new Map<string, string>();
  const elements = new Map<string, string>();
  for (const statement of sf?.statements ?? []) {
    const loc = src.locate(statement.getStart(sf));
    const owner = loc ? input.owners.get(loc.cell) : undefined;
    if (owner?.kind !== 'task') continue;
    for (const d of declaredNames(statement)) {
      if (d.kind !== 'value') continue;
      const type = declaredType(checker, d.node);
      types.set(d.name, checker.typeToString(type, sf, ts.TypeFormatFlags.NoTruncation));
      const element = input.lists.has(d.name) ? elementType(checker, type) : undefined;
      if (element !== undefined) elements.set(d.name, checker.typeToString(element, sf, ts.TypeFormatFlags.NoTruncation));
    }
  }
  return { types, elements };
}
