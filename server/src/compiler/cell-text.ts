import ts from 'typescript';

/** Cells parsed lately, by source: the passes of a compile (and the next compile) share them. */
const parsedCells = new Map<string, ts.SourceFile>();
const PARSED_CELLS_KEPT = 4096;

/**
 * Parses one cell on its own (syntax only, no checker). Every pass and every task's
 * generated code parses the cells of the whole notebook, so parses are shared by source
 * text: callers only read the tree.
 */
export function parseCell(source: string): ts.SourceFile {
  const cached = parsedCells.get(source);
  if (cached !== undefined) return cached;
  const sf = ts.createSourceFile('cell.ts', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  parsedCells.set(source, sf);
  if (parsedCells.size > PARSED_CELLS_KEPT) {
    const oldest = parsedCells.keys().next().value;
    if (oldest !== undefined) parsedCells.delete(oldest);
  }
  return sf;
}

/** Replaces a range by spaces, keeping line breaks, so positions after it do not move. */
export function blankRange(text: string, start: number, end: number): string {
  return text.slice(0, start) + text.slice(start, end).replace(/[^\n]/g, ' ') + text.slice(end);
}

/** Keeps only the top-level statements `keep` accepts; the rest become spaces. */
export function keepStatements(source: string, keep: (s: ts.Statement) => boolean): string {
  const sf = parseCell(source);
  // One pass (statements are in order and do not overlap): a cell of many statements is
  // not copied once per statement.
  let out = '';
  let last = 0;
  for (const s of sf.statements) {
    if (keep(s)) continue;
    out += source.slice(last, s.getFullStart()) + blankRange(source.slice(s.getFullStart(), s.getEnd()), 0, s.getEnd() - s.getFullStart());
    last = s.getEnd();
  }
  return out + source.slice(last);
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
