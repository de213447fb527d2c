import ts from 'typescript';
import { Edit, applyEdits, blankRange, keepStatements, parseCell } from './cell-text';
import { isHoisted } from './declarations';
import type { ParamDecl } from './params-cell';
import { type CodeCell, type Partition, runnableCells } from './partition';

/**
 * Emits the runnable CommonJS modules described in kernel-lib's task-context.ts. Cells
 * are concatenated into one async function so bindings flow between cells as in tslab;
 * comments are dropped by the emitter, and the task's code hash is taken over
 * {@link hashableModule}, so neither comments nor formatting count.
 */

const HEADER = 'module.exports = async function (__cg: any) {\n';

/** Every import of the notebook's code cells, once each (imports are hoisted into every task). */
function hoistedImports(cells: CodeCell[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of cells) {
    const sf = parseCell(c.source);
    for (const s of sf.statements) {
      if (isHoisted(s) !== 'import') continue;
      const text = s.getText(sf);
      if (!seen.has(text)) {
        seen.add(text);
        out.push(text);
      }
    }
  }
  return out.join('\n');
}

/** A cell's code with its imports removed (they are hoisted), then edits applied (blanking keeps positions). */
function withoutImports(source: string, edits: Edit[] = []): string {
  const sf = parseCell(source);
  let out = source;
  for (const s of sf.statements) if (isHoisted(s) === 'import') out = blankRange(out, s.getFullStart(), s.getEnd());
  return applyEdits(out, edits);
}

/** A cell's type declarations and enums, by source: every other task's module repeats them. */
const typeDeclarationsKept = new Map<string, string>();

function typeDeclarations(source: string): string {
  let kept = typeDeclarationsKept.get(source);
  if (kept === undefined) {
    kept = keepStatements(source, (s) => isHoisted(s) === 'type');
    typeDeclarationsKept.set(source, kept);
    if (typeDeclarationsKept.size > TRANSPILED_KEPT) typeDeclarationsKept.delete(typeDeclarationsKept.keys().next().value as string);
  }
  return kept;
}

/** Rewrites the last expression statement of a cell to report its value, as tslab shows it. */
function resultEdit(source: string): Edit[] {
  const sf = parseCell(source);
  const last = sf.statements[sf.statements.length - 1];
  if (!last || !ts.isExpressionStatement(last)) return [];
  const expr = last.expression;
  return [{ start: last.getStart(sf), end: last.getEnd(), text: `__cg.result((${expr.getText(sf)}));` }];
}

/** Rewrites literal parameters to read the run's value: `const lr = __cg.param("lr", 0.1)`. */
function paramEdits(decls: ParamDecl[]): Edit[] {
  return decls.flatMap((d) => (d.literal ? [{ start: d.literal.start, end: d.literal.end, text: `__cg.param(${JSON.stringify(d.name)}, ${d.literal.text})` }] : []));
}

/**
 * A module's TypeScript text as it is put together, remembering on which line (0-based)
 * each cell's code starts, for the source map that leads a stack trace back to the cell.
 */
class ModuleText {
  text = '';
  private lines = 0;
  /** `[line in the module's TypeScript, cell index]`, in order. */
  readonly cells: [number, number][] = [];

  add(text: string, cell?: number): void {
    if (cell !== undefined) this.cells.push([this.lines, cell]);
    this.text += text;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lines += 1;
  }
}

/** The source-map field (a source map's `x_` extension) listing where each cell starts in the module's TypeScript. */
export const CELL_MAP_FIELD = 'x_cellgraph_cells';

/**
 * A generated module before transpiling: its TypeScript, and (for a task module) where each
 * cell starts in it, which its source map carries.
 */
export interface ModuleSource {
  text: string;
  cells?: [number, number][];
}

/** Modules transpiled lately, by source and cell starts: an edit leaves most tasks' generated code as it was. */
const transpiled = new Map<string, string>();
const TRANSPILED_KEPT = 2048;

const TRANSPILE_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  removeComments: true,
  experimentalDecorators: true,
  newLine: ts.NewLineKind.LineFeed
};

function transpile(source: ModuleSource): string {
  return transpileAll([source])[0];
}

function transpiledKey(m: ModuleSource): string {
  return m.cells === undefined ? m.text : `${m.text}\0${JSON.stringify(m.cells)}`;
}

/**
 * The emitted JavaScript of a module, ending (given the cells' start lines) with an inline
 * source map (JS -> the module's TypeScript) carrying them in {@link CELL_MAP_FIELD}, which
 * the runner uses to report a stack frame as a notebook cell and line. A comment, so the code
 * hash (tokens only) does not see it; its file names are fixed, so the output depends on the
 * module alone, not on its place in a batch.
 */
function withCellMap(js: string, map: string | undefined, cells: [number, number][] | undefined): string {
  const code = js.replace(/\n?\/\/# sourceMappingURL=[^\n]*\n?$/, '\n');
  if (cells === undefined || map === undefined) return code;
  const full = { ...(JSON.parse(map) as Record<string, unknown>), file: 'task.js', sources: ['task.ts'], [CELL_MAP_FIELD]: cells };
  return `${code}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(full)).toString('base64')}\n`;
}

/**
 * Transpiles modules each on its own, as `ts.transpileModule` does (isolated modules, no
 * libraries, no resolution), but in one program: transpileModule builds a program and a
 * type checker per call, which a notebook of hundreds of tasks paid hundreds of times.
 * Each module's output depends on its own text (and cell starts) only; outputs are kept by them.
 */
export function transpileAll(sources: ModuleSource[]): string[] {
  const missing = [...new Map(sources.filter((s) => !transpiled.has(transpiledKey(s))).map((s) => [transpiledKey(s), s])).values()];
  if (missing.length > 0) {
    const options: ts.CompilerOptions = {
      ...TRANSPILE_OPTIONS,
      isolatedModules: true,
      suppressOutputPathCheck: true,
      allowNonTsExtensions: true,
      noLib: true,
      noResolve: true,
      noEmit: false,
      declaration: false,
      sourceMap: missing.some((m) => m.cells !== undefined)
    };
    const names = missing.map((_, i) => `/__cellgraph_module_${i}__.ts`);
    const byName = new Map(names.map((n, i) => [n, missing[i].text]));
    const outputs = new Map<string, string>();
    const host: ts.CompilerHost = {
      getSourceFile: (fileName, languageVersion) => {
        const text = byName.get(fileName);
        return text === undefined ? undefined : ts.createSourceFile(fileName, text, languageVersion);
      },
      writeFile: (fileName, text) => outputs.set(fileName, text),
      getDefaultLibFileName: () => 'lib.d.ts',
      useCaseSensitiveFileNames: () => true,
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => '/',
      getNewLine: () => '\n',
      fileExists: (f) => byName.has(f),
      readFile: (f) => byName.get(f),
      directoryExists: () => true,
      getDirectories: () => []
    };
    ts.createProgram(names, options, host).emit();
    names.forEach((n, i) => {
      const js = outputs.get(n.replace(/\.ts$/, '.js'));
      if (js === undefined) throw new Error('internal: a task module was not transpiled');
      transpiled.set(transpiledKey(missing[i]), withCellMap(js, outputs.get(n.replace(/\.ts$/, '.js.map')), missing[i].cells));
    });
    while (transpiled.size > TRANSPILED_KEPT) {
      const oldest = transpiled.keys().next().value;
      if (oldest === undefined) break;
      transpiled.delete(oldest);
    }
  }
  return sources.map((s) => transpiled.get(transpiledKey(s)) ?? transpileUncached(s));
}

/** One module through ts.transpileModule (when the kept outputs were dropped meanwhile). */
function transpileUncached(source: ModuleSource): string {
  const out = ts.transpileModule(source.text, { fileName: 'task.ts', compilerOptions: { ...TRANSPILE_OPTIONS, sourceMap: source.cells !== undefined } });
  return withCellMap(out.outputText, out.sourceMapText, source.cells);
}

/** What taskModule needs to know about a task. */
export interface TaskModuleInput {
  part: Partition;
  task: string;
  params: ParamDecl[];
  inputs: string[];
  outputs: string[];
  /** Type declarations of other tasks (interfaces, enums) this task may use. */
  ownerOf: (cell: number) => string | undefined;
  /** The task's condition: evaluated once inputs are loaded; false ends the attempt as skipped. */
  when?: string;
}

/** The generated module of one task. */
export function taskModule(input: TaskModuleInput): string {
  return transpile(taskModuleSource(input));
}

/** The TypeScript source of a task's generated module (transpile it, many at once, with transpileAll). */
export function taskModuleSource(input: TaskModuleInput): ModuleSource {
  const { part } = input;
  const shared = sharedParts(part, input.params);
  const task = part.tasks.find((t) => t.name === input.task);
  if (!task) throw new Error(`internal: no task ${input.task}`);
  const m = new ModuleText();
  m.add(`${shared.imports}\n${HEADER}`);
  // Type declarations and enums of other tasks: erased or tiny, and a task may name them.
  for (const c of shared.typeCells) {
    const owner = input.ownerOf(c.index);
    if (owner !== undefined && owner !== input.task) m.add(c.text, c.index);
  }
  // Imports are blanked and edits keep lines, so a cell's line N is the module's (start + N).
  for (const c of shared.setupCells) {
    m.add(`__cg.enterCell(${c.index});\n`);
    m.add(c.text, c.index);
  }
  if (input.inputs.length > 0) m.add(`const { ${input.inputs.map((n) => `${n}: ${n}`).join(', ')} } = await __cg.loadInputs();\n`, -1);
  else m.add('await __cg.loadInputs();\n', -1);
  if (input.when !== undefined) m.add(`if (!(${input.when}\n)) return __cg.skip();\n`, -1);
  for (const c of task.cells) {
    m.add(`__cg.enterCell(${c.index});\n`);
    m.add(`${withoutImports(c.source, resultEdit(c.source))}\n`, c.index);
  }
  m.add(`return { ${input.outputs.map((n) => `${n}: ${n}`).join(', ')} };\n};\n`, -1);
  return { text: m.text, cells: m.cells };
}

/** What every task module of one notebook repeats, worked out once per compile, not once per task. */
interface SharedParts {
  params: ParamDecl[];
  /** Every import of the notebook, once each. */
  imports: string;
  /** Cells of tasks that declare types or enums: the declarations, imports blanked. */
  typeCells: { index: number; text: string }[];
  /** Setup and parameters cells (literal parameters rewritten), imports blanked. */
  setupCells: { index: number; text: string }[];
}

/** By partition (one per compile): a notebook of 500 tasks built these 500 times, reparsing every cell each time. */
const sharedByPartition = new WeakMap<Partition, SharedParts>();

function sharedParts(part: Partition, params: ParamDecl[]): SharedParts {
  const kept = sharedByPartition.get(part);
  if (kept !== undefined && kept.params === params) return kept;
  const allCells = runnableCells(part);
  const inTask = new Set(part.tasks.flatMap((t) => t.cells.map((c) => c.index)));
  const typeCells: SharedParts['typeCells'] = [];
  const setupCells: SharedParts['setupCells'] = [];
  for (const c of allCells) {
    if (inTask.has(c.index)) {
      const types = typeDeclarations(c.source);
      if (types.trim()) typeCells.push({ index: c.index, text: `${withoutImports(types)}\n` });
    } else {
      const edits = part.params && c.index === part.params.index ? paramEdits(params) : [];
      setupCells.push({ index: c.index, text: `${withoutImports(c.source, edits)}\n` });
    }
  }
  const shared = { params, imports: hoistedImports(allCells), typeCells, setupCells };
  sharedByPartition.set(part, shared);
  return shared;
}

/** The generated parameters module: imports and the parameters cell, returning every parameter. */
export function paramsModule(part: Partition, params: ParamDecl[]): string {
  const cell = part.params;
  const body = cell ? withoutImports(cell.source, paramEdits(params)) : '';
  // Imports of every cell: `param` and `z` usually come from a setup cell. Unused ones are elided.
  const allCells = runnableCells(part);
  const imports = hoistedImports(allCells);
  return transpile({ text: `${imports}\n${HEADER}${body}\nreturn { ${params.map((p) => `${p.name}: ${p.name}`).join(', ')} };\n};\n` });
}

/**
 * The module as its code hash sees it: its tokens one space apart, string literals in one
 * quote style, trailing commas dropped, parameter defaults left out. The emitter keeps some of the author's layout (a
 * literal or block written over several lines stays so), which must not change the hash.
 */
export function hashableModule(module: string): string {
  let hashable = hashableKept.get(module);
  if (hashable === undefined) {
    hashable = tokensOf(module);
    hashableKept.set(module, hashable);
    while (hashableKept.size > TRANSPILED_KEPT) hashableKept.delete(hashableKept.keys().next().value as string);
  }
  return hashable;
}

/** {@link hashableModule}'s answers by module: an edit leaves most tasks' modules as they were. */
const hashableKept = new Map<string, string>();

function tokensOf(module: string): string {
  const sf = ts.createSourceFile('module.js', module, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    // A parameter's default is not code: the value a run uses enters the cache key of the
    // tasks that read it, so editing a default must not invalidate every task.
    if (ts.isCallExpression(node) && node.expression.getText(sf) === '__cg.param' && node.arguments.length === 2) {
      out.push('__cg.param', '(', node.arguments[0].getText(sf), ')');
      return;
    }
    const children = node.getChildren(sf);
    if (children.length === 0) {
      const text = ts.isStringLiteral(node) ? JSON.stringify(node.text) : node.getText(sf);
      if (text.length > 0) out.push(text);
      return;
    }
    children.forEach((child, i) => {
      const trailingComma = child.kind === ts.SyntaxKind.CommaToken && node.kind === ts.SyntaxKind.SyntaxList && i === children.length - 1;
      if (!trailingComma) visit(child);
    });
  };
  visit(sf);
  return out.join(' ');
}
