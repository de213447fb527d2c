import { Diagnostic, WorkflowIR, formatDiagnostic } from '@cellgraph/schema';
import type { CompileResult } from '../compiler';
import { compileWithCache } from '../compiler/compile-cache';
import { publishWorkflow } from '../engine/workflow-files';
import { type ArtifactStore, FilesystemStore } from '../stores';
import { cacheDir } from './cache-dir';
import { err } from './output';
import type { NotebookInput } from './notebook-input';

/**
 * Compiles in this user's compile daemon (docs/cli-speed.md), which keeps TypeScript's
 * libraries parsed and each task's check between commands; when it cannot be used, in this
 * process with each task's type check kept in the user's cache folder, so the next CLI
 * process checks only the tasks whose code, setup or input types changed. TypeScript is
 * loaded here, only when a compile is needed: a cached answer does not pay for it.
 */
async function compileIncrementally(input: { path: string; text: string }): Promise<CompileResult> {
  const viaDaemon = await (await import('../compiler/daemon/client')).compileThroughDaemon(input, { checks: cacheDir('checks'), snapshots: cacheDir('v8') });
  if (viaDaemon !== undefined) return viaDaemon;
  if (process.env.CELLGRAPH_DEBUG_DAEMON) err(`compile daemon not used: ${(await import('../compiler/daemon/client')).lastOutcome?.fallback}`);
  const [{ compileNotebook }, { DiskCheckCache }] = await Promise.all([import('../compiler'), import('../compiler/check-cache')]);
  return compileNotebook(input, { checkCache: new DiskCheckCache(cacheDir('checks')) });
}

/**
 * Compiles a notebook, printing warnings; returns the IR, or undefined after printing every
 * error. An unchanged notebook is answered from the user's cache folder (`compiled/`, the
 * store-backed compile cache: reused only while every file the compile read is unchanged).
 * A cache that cannot be written (read-only home, full disk) only costs the cached answer.
 */
export async function compileOrReport(nb: NotebookInput): Promise<{ ir?: WorkflowIR; diagnostics: Diagnostic[] }> {
  const input = { path: nb.path, text: nb.text };
  const store = new FilesystemStore(cacheDir('compiled'));
  let result: CompileResult;
  try {
    result = await compileWithCache(store, input, compileIncrementally);
    if (result.ok) await publishWorkflow(store, result.ir, nb.text);
  } catch (e) {
    if (!(e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E'))) throw e;
    result = await compileIncrementally(input);
  }
  return report(nb, result);
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
