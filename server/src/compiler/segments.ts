import { lineColumn } from './parse-notebook';

/** A cell's source placed at an offset of a generated file. */
export interface Segment {
  cell: number;
  start: number;
  text: string;
}

/**
 * Builds a generated source file out of pieces (cell sources and glue) and maps offsets in
 * it back to a cell, line and column, so every diagnostic names the user's own code.
 */
export class SegmentedSource {
  private text = '';
  private readonly segments: Segment[] = [];

  /** Appends glue code that belongs to no cell. */
  glue(code: string): void {
    this.text += code;
  }

  /** Appends a cell's source (on its own lines) and remembers where it went. */
  cell(cell: number, source: string): void {
    if (this.text.length > 0 && !this.text.endsWith('\n')) this.text += '\n';
    this.segments.push({ cell, start: this.text.length, text: source });
    this.text += `${source}\n`;
  }

  get source(): string {
    return this.text;
  }

  /** The segment containing an offset, if the offset is inside a cell's text. */
  segmentAt(offset: number): Segment | undefined {
    for (const s of this.segments) if (offset >= s.start && offset <= s.start + s.text.length) return s;
    return undefined;
  }

  /** Cell, 1-based line and column of an offset, if it falls inside a cell. */
  locate(offset: number): { cell: number; line: number; column: number } | undefined {
    const s = this.segmentAt(offset);
    if (!s) return undefined;
    return { cell: s.cell, ...lineColumn(s.text, offset - s.start) };
  }
}
