import type { JsonValue, ParamSpec } from '@cellgraph/schema';

/**
 * Parameter values as the promote dialog's inputs hold them (text) and as the server takes
 * them (typed JSON), as pure functions: a string parameter is its text, a number must parse
 * as one, a boolean is `true`/`false`, anything else is JSON.
 */
export function paramText(p: ParamSpec): string {
  return typeof p.default === 'string' ? p.default : JSON.stringify(p.default);
}

/** The typed value of an input, or the reason it is not one. */
export function parseParam(p: ParamSpec, text: string): { ok: true; value: JsonValue } | { ok: false; message: string } {
  switch (p.kind) {
    case 'string':
      return { ok: true, value: text };
    case 'number': {
      const n = Number(text.trim());
      return text.trim() !== '' && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `${p.name} must be a number` };
    }
    case 'boolean':
      return text === 'true' || text === 'false' ? { ok: true, value: text === 'true' } : { ok: false, message: `${p.name} must be true or false` };
    default:
      try {
        return { ok: true, value: JSON.parse(text) as JsonValue };
      } catch {
        return { ok: false, message: `${p.name} must be JSON (${p.type})` };
      }
  }
}
