import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Builds nbformat 4 notebooks in tests: `code('src', {task: 'a'})`, `md('text')`.
 * Shared by server tests (engine, CLI) so each test states only the cells it cares about.
 */
export interface TestCell {
  cell_type: 'code' | 'markdown';
  source: string;
  metadata: Record<string, unknown>;
}

/** A code cell, optionally annotated under `metadata.cellgraph`. */
export function code(source: string, annotation?: Record<string, unknown>): TestCell {
  return { cell_type: 'code', source, metadata: annotation ? { cellgraph: annotation } : {} };
}

/** A markdown cell. */
export function md(source: string): TestCell {
  return { cell_type: 'markdown', source, metadata: {} };
}

/** The notebook JSON text for some cells, as tslab notebooks are saved. */
export function notebookText(cells: TestCell[]): string {
  return JSON.stringify(
    {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      cells: cells.map((c) => (c.cell_type === 'code' ? { ...c, outputs: [], execution_count: null } : c))
    },
    null,
    1
  );
}

/**
 * Makes the repository's packages (@cellgraph/kernel, zod, ...) resolvable from a
 * temporary notebook directory, as they are for a notebook inside a project.
 */
export function linkNodeModules(dir: string): void {
  fs.symlinkSync(path.resolve(__dirname, '..', '..', '..', 'node_modules'), path.join(dir, 'node_modules'), 'dir');
}
