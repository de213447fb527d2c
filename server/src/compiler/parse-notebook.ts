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
    const offset = jsonErrorOffset(text, message);
    const where = offset !== undefined ? lineColumn(text, offset) : undefined;
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

/** True when JSON.parse fails on `text` before reaching its end (not merely because it ends early). */
function failsInside(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch (err) {
    const message = (err as Error).message;
    if (/Unexpected end of JSON input/.test(message)) return false;
    const pos = /position (\d+)/.exec(message);
    return pos === null || Number(pos[1]) < text.length;
  }
}

/**
 * Where JSON.parse gave up. V8 (Node 20+) leaves the position out of some messages
 * ("Unexpected token 'o', ... is not valid JSON", "Unexpected end of JSON input"): then the
 * shortest prefix that fails before its end ends just after the offending character.
 */
function jsonErrorOffset(text: string, message: string): number | undefined {
  const pos = /position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  if (/Unexpected end of JSON input/.test(message)) return text.length;
  if (!failsInside(text)) return undefined;
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsInside(text.slice(0, mid))) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
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
