import ts from 'typescript';

/** Parses one cell on its own (syntax only: cheap, no checker). */
export function parseCell(source: string): ts.SourceFile {
  return ts.createSourceFile('cell.ts', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

/** Replaces a range by spaces, keeping line breaks, so positions after it do not move. */
export function blankRange(text: string, start: number, end: number): string {
  return text.slice(0, start) + text.slice(start, end).replace(/[^\n]/g, ' ') + text.slice(end);
}

/** Keeps only the top-level statements `keep` accepts; the rest become spaces. */
export function keepStatements(source: string, keep: (s: ts.Statement) => boolean): string {
  const sf = parseCell(source);
  let out = source;
  for (const s of sf.statements) if (!keep(s)) out = blankRange(out, s.getFullStart(), s.getEnd());
  return out;
}

/** A text edit on a cell's source. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping edits (any order). */
export function applyEdits(source: string, edits: Edit[]): string {
  let out = source;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
