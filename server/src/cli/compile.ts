import { Diagnostic, WorkflowIR, formatDiagnostic } from '@cellgraph/schema';
import { compileNotebook, type CompileResult } from '../compiler';
import { DiskCheckCache } from '../compiler/check-cache';
import { compileWithCache } from '../compiler/compile-cache';
import type { ArtifactStore } from '../stores';
import { cacheDir } from './cache-dir';
import { err } from './output';
import type { NotebookInput } from './notebook-input';

/**
 * Compiles with each task's type check kept in the user's cache folder, so the next CLI
 * process checks only the tasks whose code, setup or input types changed.
 */
function compileIncrementally(input: { path: string; text: string }): CompileResult {
  return compileNotebook(input, { checkCache: new DiskCheckCache(cacheDir('checks')) });
}

/** Compiles a notebook, printing warnings; returns the IR, or undefined after printing every error. */
export function compileOrReport(nb: NotebookInput): { ir?: WorkflowIR; diagnostics: Diagnostic[] } {
  return report(nb, compileIncrementally({ path: nb.path, text: nb.text }));
}

/** As compileOrReport, reusing an identical earlier compile filed in the run's store. */
export async function compileForRunOrReport(nb: NotebookInput, store: ArtifactStore): Promise<{ ir?: WorkflowIR; diagnostics: Diagnostic[] }> {
  return report(nb, await compileWithCache(store, { path: nb.path, text: nb.text }, compileIncrementally));
}

function report(nb: NotebookInput, result: CompileResult): { ir?: WorkflowIR; diagnostics: Diagnostic[] } {
  const diagnostics = result.ok ? result.warnings : result.diagnostics;
  for (const d of diagnostics) err(formatDiagnostic(d));
  if (!result.ok) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    err(`${nb.path}: ${errors} error${errors === 1 ? '' : 's'}; nothing was run`);
    return { diagnostics };
  }
  return { ir: result.ir, diagnostics };
}
