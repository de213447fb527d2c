import type { JsonValue, ParamSpec, StoreConfig, WorkflowIR } from '@cellgraph/schema';
import { ValidationError } from '../errors';
import { runParamsCheck } from '../executors/local/params-check';

/**
 * Parses `-p name=value` assignments by each parameter's declared kind. Every problem is
 * a ValidationError naming the parameter, raised before anything runs.
 */
export function parseParamAssignments(specs: ParamSpec[], assignments: string[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new ValidationError(`-p ${JSON.stringify(assignment)}: expected name=value`, 'params');
    const name = assignment.slice(0, eq);
    const raw = assignment.slice(eq + 1);
    const spec = findSpec(specs, name);
    out[name] = parseRaw(spec, raw);
  }
  return out;
}

function parseRaw(spec: ParamSpec, raw: string): JsonValue {
  const bad = (why: string) => new ValidationError(`parameter "${spec.name}" (${spec.type}): ${why}`, `params.${spec.name}`);
  switch (spec.kind) {
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw bad(`${JSON.stringify(raw)} is not a number`);
      return n;
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw bad(`${JSON.stringify(raw)} is not true or false`);
    case 'string':
      return raw;
    case 'json':
      try {
        return JSON.parse(raw) as JsonValue;
      } catch {
        throw bad(`${JSON.stringify(raw)} is not valid JSON`);
      }
  }
}

function findSpec(specs: ParamSpec[], name: string): ParamSpec {
  const spec = specs.find((s) => s.name === name);
  if (spec === undefined) {
    const known = specs.length > 0 ? `; this workflow has: ${specs.map((s) => s.name).join(', ')}` : '; this workflow has no parameters';
    throw new ValidationError(`unknown parameter ${JSON.stringify(name)}${known}`, `params.${name}`);
  }
  return spec;
}

/** Checks already-typed overrides (from JSON APIs) against the declared kinds. */
export function checkParamKinds(specs: ParamSpec[], values: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = findSpec(specs, name);
    const ok =
      spec.kind === 'number'
        ? typeof value === 'number' && Number.isFinite(value)
        : spec.kind === 'boolean'
          ? typeof value === 'boolean'
          : spec.kind === 'string'
            ? typeof value === 'string'
            : value !== undefined;
    if (!ok) throw new ValidationError(`parameter "${name}" must be ${spec.type}, got ${JSON.stringify(value)}`, `params.${name}`);
    out[name] = value as JsonValue;
  }
  return out;
}

/**
 * The run's full parameter values: defaults with overrides applied, and `param()` schema
 * constraints checked by evaluating the parameters module in a child process.
 */
export async function resolveParams(options: {
  ir: WorkflowIR;
  overrides: Record<string, unknown>;
  store: StoreConfig;
  workDir: string;
  taskEntry?: string;
}): Promise<Record<string, JsonValue>> {
  const overrides = checkParamKinds(options.ir.params, options.overrides);
  const values: Record<string, JsonValue> = {};
  for (const spec of options.ir.params) values[spec.name] = spec.name in overrides ? overrides[spec.name] : spec.default;
  if (!options.ir.params.some((p) => p.constrained)) return values;
  const answer = await runParamsCheck(
    { workflowVersion: options.ir.version, workDir: options.workDir, overrides, store: options.store },
    options.taskEntry
  );
  if (!answer.ok) throw new ValidationError(answer.message, answer.name ? `params.${answer.name}` : 'params');
  return { ...values, ...answer.values };
}
