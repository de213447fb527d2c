import * as path from 'node:path';
import type ts from 'typescript';

/**
 * The programs the last compiles built, by notebook, then by role (its data flow, its task
 * checks). The next compile of the same notebook passes them to TypeScript as `oldProgram`:
 * files that did not change (libraries, package declarations, unchanged task files) keep
 * their parse, binding and module resolution, so an edit pays only for what it changed.
 * TypeScript re-resolves the imports of every file that changed; files whose check is not
 * cached are always given fresh (see isolation.ts), so a package installed since is seen.
 *
 * Only the notebooks compiled last are kept ({@link NOTEBOOKS_KEPT}, least recently
 * compiled dropped first): a program holds its checker's memory (about 2 MB for a 50-cell
 * notebook, 56 MB for 1,000 cells), and a compile worker has a heap limit (a heap held near
 * its limit makes V8 collect garbage over and over instead of failing fast). The pool sends
 * a notebook's compiles to the worker that compiled it last, so these stay useful.
 */
const notebooks = new Map<string, Map<string, ts.Program>>();

/** How many notebooks' programs a process keeps. */
export const NOTEBOOKS_KEPT = 4;

/** The program last built for `role` of the notebook at `notebookPath`, if still kept. */
export function previousProgram(notebookPath: string, role: string): ts.Program | undefined {
  return notebooks.get(path.resolve(notebookPath))?.get(role);
}

/** Keeps `program` as the one to build on for the next compile of that notebook and role. */
export function keepProgram(notebookPath: string, role: string, program: ts.Program): void {
  const key = path.resolve(notebookPath);
  const kept = notebooks.get(key) ?? new Map<string, ts.Program>();
  kept.set(role, program);
  notebooks.delete(key);
  notebooks.set(key, kept); // most recently compiled goes last
  while (notebooks.size > NOTEBOOKS_KEPT) {
    const oldest = notebooks.keys().next().value;
    if (oldest === undefined) break;
    notebooks.delete(oldest);
  }
}

/** How many notebooks have programs kept (for tests and the bench). */
export function keptNotebooks(): number {
  return notebooks.size;
}

/** Drops every kept program (a compile worker after its warm-up: the next notebook is another). */
export function forgetPrograms(): void {
  notebooks.clear();
}
