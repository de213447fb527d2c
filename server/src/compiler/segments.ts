import { lineColumn } from './parse-notebook';

/** A cell's source placed at an offset of a generated file. */
export interface Segment {
  cell: number;
  start: number;
  /** The cell's source as written by the user (positions are reported against it). */
  text: string;
  /** Text inserted into the generated copy, at positions of the generated copy, ascending. */
  inserts: { at: number; length: number }[];
  /** Length of the generated copy. */
  length: number;
}

/**
 * Builds a generated source file out of pieces (cell sources and glue) and maps offsets in
 * it back to a cell, line and column, so every diagnostic names the user's own code.
 */
export class SegmentedSource {
  private text = '';
  /** Whether the text ends a line; asking the text itself flattened it once per cell. */
  private atLineStart = true;
  private readonly segments: Segment[] = [];

  /** Appends glue code that belongs to no cell. */
  glue(code: string): void {
    this.text += code;
    if (code.length > 0) this.atLineStart = code.endsWith('\n');
  }

  /**
   * Appends a cell's source (on its own lines) and remembers where it went. `inserts` are
   * texts to insert at offsets of the original source (e.g. `export `); positions inside
   * the generated copy still map back to the original.
   */
  cell(cell: number, source: string, inserts: { at: number; text: string }[] = []): void {
    if (!this.atLineStart) this.text += '\n';
    let generated = '';
    let last = 0;
    const placed: { at: number; length: number }[] = [];
    for (const ins of [...inserts].sort((a, b) => a.at - b.at)) {
      generated += source.slice(last, ins.at);
      placed.push({ at: generated.length, length: ins.text.length });
      generated += ins.text;
      last = ins.at;
    }
    generated += source.slice(last);
    this.segments.push({ cell, start: this.text.length, text: source, inserts: placed, length: generated.length });
    this.text += `${generated}\n`;
    this.atLineStart = true;
  }

  get source(): string {
    return this.text;
  }

  /** The segment containing an offset, if the offset is inside a cell's text. */
  segmentAt(offset: number): Segment | undefined {
    // Segments are in order and do not overlap: the last one starting at or before the offset.
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].start <= offset) lo = mid;
      else hi = mid - 1;
    }
    const s = this.segments[lo];
    return s !== undefined && offset >= s.start && offset <= s.start + s.length ? s : undefined;
  }

  /** Cell, 1-based line and column (in the user's source) of an offset, if it falls inside a cell. */
  locate(offset: number): { cell: number; line: number; column: number } | undefined {
    const s = this.segmentAt(offset);
    if (!s) return undefined;
    const generated = offset - s.start;
    let original = generated;
    for (const ins of s.inserts) {
      if (generated >= ins.at + ins.length) original -= ins.length;
      else if (generated >= ins.at) original -= generated - ins.at;
    }
    return { cell: s.cell, ...lineColumn(s.text, original) };
  }
}
