import type ts from 'typescript';

/**
 * The programs a compile built last, by the virtual file they were built around. The next
 * compile of the same notebook passes them to TypeScript as `oldProgram`: files that did
 * not change (libraries, package declarations, unchanged task files) keep their parse,
 * binding and module resolution, so an edit pays only for what it changed. TypeScript
 * re-resolves the imports of every file that changed; files whose check is not cached are
 * always given fresh (see isolation.ts), so a package installed since is seen.
 * Only the last notebook's two programs (its data flow and its task checks) are kept: a
 * program holds its checker's memory, and a compile worker has a heap limit (a heap held
 * near its limit makes V8 collect garbage over and over instead of failing fast).
 */
const programs = new Map<string, ts.Program>();
const PROGRAMS_KEPT = 2;

/** The program last built around `key`, if still kept. */
export function previousProgram(key: string): ts.Program | undefined {
  return programs.get(key);
}

/** Keeps `program` as the one to build on for the next compile around `key`. */
export function keepProgram(key: string, program: ts.Program): void {
  programs.delete(key);
  programs.set(key, program);
  while (programs.size > PROGRAMS_KEPT) {
    const oldest = programs.keys().next().value;
    if (oldest === undefined) break;
    programs.delete(oldest);
  }
}

/** Drops every kept program (a compile worker after its warm-up: the next notebook is another). */
export function forgetPrograms(): void {
  programs.clear();
}
