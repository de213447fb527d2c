import { type JsonValue, type ParamSpec, parseParamText } from '@cellgraph/schema';

/** An input shows a parameter's default as the schema's one parameter-text form does. */
export { paramText } from '@cellgraph/schema';

/**
 * The typed value of a promote dialog input, or the reason it is not one (naming the
 * parameter), by the one parser of parameter text in @cellgraph/schema: a string parameter
 * is its text, a number must parse as one, a boolean is `true`/`false`, anything else is JSON.
 */
export function parseParam(p: Pick<ParamSpec, 'name' | 'kind' | 'type'>, text: string): { ok: true; value: JsonValue } | { ok: false; message: string } {
  const parsed = parseParamText(p, text);
  return parsed.ok ? parsed : { ok: false, message: parsed.problem.message };
}
