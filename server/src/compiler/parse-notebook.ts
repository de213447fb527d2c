import { Diagnostic, Notebook } from '@cellgraph/schema';

/** The outcome of reading a notebook file's text. */
export type ParseResult = { ok: true; notebook: Notebook } | { ok: false; diagnostics: Diagnostic[] };

/**
 * Parses notebook text: JSON first (with the line and column of a syntax error), then the
 * nbformat 4 shape, naming the field at fault.
 */
export function parseNotebook(notebookPath: string, text: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const pos = /position (\d+)/.exec(message);
    const where = pos ? lineColumn(text, Number(pos[1])) : undefined;
    return {
      ok: false,
      diagnostics: [{ severity: 'error', code: 'notebook-json', message: `not valid JSON: ${message}`, notebook: notebookPath, ...where }]
    };
  }
  const parsed = Notebook.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      diagnostics: parsed.error.issues.slice(0, 20).map((issue) => {
        const cell = issue.path[0] === 'cells' && typeof issue.path[1] === 'number' ? issue.path[1] : undefined;
        return {
          severity: 'error' as const,
          code: 'notebook-format' as const,
          message: `not an nbformat 4 notebook: ${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`,
          notebook: notebookPath,
          field: issue.path.join('.') || undefined,
          ...(cell !== undefined ? { cell } : {})
        };
      })
    };
  }
  return { ok: true, notebook: parsed.data };
}

/** 1-based line and column of an offset in text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNewline = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lastNewline = i;
    }
  }
  return { line, column: offset - lastNewline };
}
