import { Diagnostic, WorkflowIR, formatDiagnostic } from '@cellgraph/schema';
import { compileNotebook, type CompileResult } from '../compiler';
import { compileWithCache } from '../compiler/compile-cache';
import type { ArtifactStore } from '../stores';
import { err } from './output';
import type { NotebookInput } from './notebook-input';

/** Compiles a notebook, printing warnings; returns the IR, or undefined after printing every error. */
export function compileOrReport(nb: NotebookInput): { ir?: WorkflowIR; diagnostics: Diagnostic[] } {
  return report(nb, compileNotebook({ path: nb.path, text: nb.text }));
}

/** As compileOrReport, reusing an identical earlier compile filed in the run's store. */
export async function compileForRunOrReport(nb: NotebookInput, store: ArtifactStore): Promise<{ ir?: WorkflowIR; diagnostics: Diagnostic[] }> {
  return report(nb, await compileWithCache(store, { path: nb.path, text: nb.text }));
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
