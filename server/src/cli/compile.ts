import { Diagnostic, WorkflowIR, formatDiagnostic } from '@cellgraph/schema';
import { compileNotebook } from '../compiler';
import { err } from './output';
import type { NotebookInput } from './notebook-input';

/** Compiles a notebook, printing warnings; returns the IR, or undefined after printing every error. */
export function compileOrReport(nb: NotebookInput): { ir?: WorkflowIR; diagnostics: Diagnostic[] } {
  const result = compileNotebook({ path: nb.path, text: nb.text });
  const diagnostics = result.ok ? result.warnings : result.diagnostics;
  for (const d of diagnostics) err(formatDiagnostic(d));
  if (!result.ok) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    err(`${nb.path}: ${errors} error${errors === 1 ? '' : 's'}; nothing was run`);
    return { diagnostics };
  }
  return { ir: result.ir, diagnostics };
}
