import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Diagnostic, WorkflowIR } from '@cellgraph/schema';
import { compileNotebook, CompileResult } from '..';
import { TestCell, linkNodeModules, notebookText } from '@cellgraph/dev/test-support/notebooks';

let dir: string | undefined;

/** A temporary notebook directory where @cellgraph/kernel, zod, ... resolve; made once per test file. */
export function notebookDir(): string {
  if (dir === undefined) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-compiler-'));
    linkNodeModules(dir);
  }
  return dir;
}

/** Removes the temporary directory (call in afterAll). */
export function cleanup(): void {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/** Compiles cells as the notebook `test.ipynb` in the temporary directory. */
export function compile(cells: TestCell[], name = 'test.ipynb'): CompileResult {
  return compileNotebook({ path: path.join(notebookDir(), name), text: notebookText(cells) });
}

/** Compiles and expects success; fails the test with the diagnostics otherwise. */
export function compileOk(cells: TestCell[]): { ir: WorkflowIR; warnings: Diagnostic[] } {
  const r = compile(cells);
  if (!r.ok) throw new Error(`expected the notebook to compile, got:\n${r.diagnostics.map((d) => `${d.code} cell ${d.cell} ${d.line}:${d.column} ${d.message}`).join('\n')}`);
  return { ir: r.ir, warnings: r.warnings };
}

/** Compiles and expects failure; returns the diagnostics. */
export function compileErrors(cells: TestCell[]): Diagnostic[] {
  const r = compile(cells);
  if (r.ok) throw new Error(`expected compile errors, got a workflow with tasks ${r.ir.tasks.map((t) => t.name).join(', ')}`);
  return r.diagnostics;
}

/** Only the errors (not warnings). */
export function errorsOf(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.severity === 'error');
}
