import type { ParamKind } from './ir';
import { JsonValue } from './notebook';

/**
 * Parameter values typed as text (`cellgraph run -p lr=0.1`, `schedules create --param`,
 * the promote dialog's inputs) parsed in one place, by each parameter's declared kind:
 * a string is its text, a number must parse as a finite one, a boolean is `true` or
 * `false`, anything else is JSON. Problems name the parameter; callers turn them into their
 * own errors (a ValidationError on the server and in the CLI, a message under an input).
 */

/** What parsing needs to know of a parameter: a ParamSpec, or a WorkflowVersion's param. */
export interface ParamKindInfo {
  name: string;
  kind: ParamKind;
  /** The TypeScript type, shown in messages (`number[]`). */
  type?: string;
}

/** A parse that failed: the field at fault (`params.lr`) and why, naming the parameter. */
export interface ParamProblem {
  field: string;
  message: string;
}

/** The typed value, or the problem. */
export type ParamParse<T> = { ok: true; value: T } | { ok: false; problem: ParamProblem };

/** The text of one parameter as the JSON value its kind says. */
export function parseParamText(param: ParamKindInfo, text: string): ParamParse<JsonValue> {
  const bad = (why: string): ParamParse<JsonValue> => ({
    ok: false,
    problem: { field: `params.${param.name}`, message: `parameter "${param.name}" (${param.type ?? param.kind}): ${why}, got ${JSON.stringify(text)}` }
  });
  switch (param.kind) {
    case 'string':
      return { ok: true, value: text };
    case 'number': {
      const n = text.trim() === '' ? NaN : Number(text);
      return Number.isFinite(n) ? { ok: true, value: n } : bad('must be a number');
    }
    case 'boolean':
      if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
      return bad('must be true or false');
    case 'json': {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        return bad('must be JSON');
      }
      const value = JsonValue.safeParse(raw);
      return value.success ? { ok: true, value: value.data } : bad('must be JSON');
    }
  }
}

/**
 * `name=value` assignments (the first `=` splits; the value may hold more) as typed values
 * by the declared parameters. An unknown name lists the ones there are.
 */
export function readParamAssignments(params: readonly ParamKindInfo[], assignments: readonly string[]): ParamParse<Record<string, JsonValue>> {
  const values: Record<string, JsonValue> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) return { ok: false, problem: { field: 'params', message: `-p ${JSON.stringify(assignment)}: expected name=value` } };
    const name = assignment.slice(0, eq);
    const param = params.find((p) => p.name === name);
    if (param === undefined) return { ok: false, problem: unknownParam(params, name) };
    const parsed = parseParamText(param, assignment.slice(eq + 1));
    if (!parsed.ok) return parsed;
    values[name] = parsed.value;
  }
  return { ok: true, value: values };
}

/** The problem of a name no parameter has. */
export function unknownParam(params: readonly { name: string }[], name: string): ParamProblem {
  const known = params.length > 0 ? `; this workflow has: ${params.map((p) => p.name).join(', ')}` : '; this workflow has no parameters';
  return { field: `params.${name}`, message: `unknown parameter ${JSON.stringify(name)}${known}` };
}

/** A parameter's default as the text an input shows (the inverse of {@link parseParamText}). */
export function paramText(param: { default: JsonValue }): string {
  return typeof param.default === 'string' ? param.default : JSON.stringify(param.default);
}
