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

/** Modules transpiled lately, by source: an edit leaves most tasks' generated code as it was. */
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

function transpile(source: string): string {
  return transpileAll([source])[0];
}

/**
 * Transpiles modules each on its own, as `ts.transpileModule` does (isolated modules, no
 * libraries, no resolution), but in one program: transpileModule builds a program and a
 * type checker per call, which a notebook of hundreds of tasks paid hundreds of times.
 * Each module's output depends on its own text only; outputs are kept by source.
 */
export function transpileAll(sources: string[]): string[] {
  const missing = [...new Set(sources.filter((s) => !transpiled.has(s)))];
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
      sourceMap: false
    };
    const names = missing.map((_, i) => `/__cellgraph_module_${i}__.ts`);
    const byName = new Map(names.map((n, i) => [n, missing[i]]));
    const outputs = new Map<string, string>();
    const host: ts.CompilerHost = {
      getSourceFile: (fileName, languageVersion) => {
        const text = byName.get(fileName);
        return text === undefined ? undefined : ts.createSourceFile(fileName, text, languageVersion);
      },
      writeFile: (fileName, text) => outputs.set(fileName.replace(/\.js$/, '.ts'), text),
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
      const output = outputs.get(n);
      if (output === undefined) throw new Error('internal: a task module was not transpiled');
      transpiled.set(missing[i], output);
    });
    while (transpiled.size > TRANSPILED_KEPT) {
      const oldest = transpiled.keys().next().value;
      if (oldest === undefined) break;
      transpiled.delete(oldest);
    }
  }
  return sources.map((s) => transpiled.get(s) ?? transpileUncached(s));
}

/** One module through ts.transpileModule (when the kept outputs were dropped meanwhile). */
function transpileUncached(source: string): string {
  return ts.transpileModule(source, { compilerOptions: TRANSPILE_OPTIONS }).outputText;
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
}

/** The generated module of one task. */
export function taskModule(input: TaskModuleInput): string {
  return transpile(taskModuleSource(input));
}

/** The TypeScript source of a task's generated module (transpile it, many at once, with transpileAll). */
export function taskModuleSource(input: TaskModuleInput): string {
  const { part } = input;
  const allCells = runnableCells(part);
  const task = part.tasks.find((t) => t.name === input.task);
  if (!task) throw new Error(`internal: no task ${input.task}`);
  let body = '';
  // Type declarations and enums of other tasks: erased or tiny, and a task may name them.
  for (const c of allCells) {
    const owner = input.ownerOf(c.index);
    if (owner !== undefined && owner !== input.task) {
      const kept = typeDeclarations(c.source);
      if (kept.trim()) body += `${withoutImports(kept)}\n`;
    }
  }
  for (const c of allCells) {
    if (input.ownerOf(c.index) !== undefined) continue;
    const edits = part.params && c.index === part.params.index ? paramEdits(input.params) : [];
    body += `__cg.enterCell(${c.index});\n${withoutImports(c.source, edits)}\n`;
  }
  if (input.inputs.length > 0) body += `const { ${input.inputs.map((n) => `${n}: ${n}`).join(', ')} } = await __cg.loadInputs();\n`;
  else body += 'await __cg.loadInputs();\n';
  for (const c of task.cells) body += `__cg.enterCell(${c.index});\n${withoutImports(c.source, resultEdit(c.source))}\n`;
  body += `return { ${input.outputs.map((n) => `${n}: ${n}`).join(', ')} };\n`;
  return `${hoistedImports(allCells)}\n${HEADER}${body}};\n`;
}

/** The generated parameters module: imports and the parameters cell, returning every parameter. */
export function paramsModule(part: Partition, params: ParamDecl[]): string {
  const cell = part.params;
  const body = cell ? withoutImports(cell.source, paramEdits(params)) : '';
  // Imports of every cell: `param` and `z` usually come from a setup cell. Unused ones are elided.
  const allCells = runnableCells(part);
  const imports = hoistedImports(allCells);
  return transpile(`${imports}\n${HEADER}${body}\nreturn { ${params.map((p) => `${p.name}: ${p.name}`).join(', ')} };\n};\n`);
}

/**
 * The module as its code hash sees it: its tokens one space apart, string literals in one
 * quote style, trailing commas dropped, parameter defaults left out. The emitter keeps some of the author's layout (a
 * literal or block written over several lines stays so), which must not change the hash.
 */
export function hashableModule(module: string): string {
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
