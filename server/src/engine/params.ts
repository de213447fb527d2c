import { type JsonValue, type ParamKindInfo, type ParamSpec, type StoreConfig, type WorkflowIR, readParamAssignments, unknownParam } from '@cellgraph/schema';
import { ValidationError } from '../errors';
import { runParamsCheck } from '../executors/local/params-check';
import type { ParamsCheck, ParamsCheckAnswer } from '../executors/task-entry-protocol';

/**
 * Parses `-p name=value` assignments by each parameter's declared kind (the one parser,
 * schema's readParamAssignments). Every problem is a ValidationError naming the parameter,
 * raised before anything runs.
 */
export function parseParamAssignments(specs: readonly ParamKindInfo[], assignments: readonly string[]): Record<string, JsonValue> {
  const parsed = readParamAssignments(specs, assignments);
  if (!parsed.ok) throw new ValidationError(parsed.problem.message, parsed.problem.field);
  return parsed.value;
}

/** Checks already-typed overrides (from JSON APIs) against the declared kinds. */
export function checkParamKinds(specs: ParamSpec[], values: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) {
      const problem = unknownParam(specs, name);
      throw new ValidationError(problem.message, problem.field);
    }
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
  /** Runs the check (the executor's warm process); default: a fresh local process. */
  check?: (check: ParamsCheck) => Promise<ParamsCheckAnswer>;
}): Promise<Record<string, JsonValue>> {
  const overrides = checkParamKinds(options.ir.params, options.overrides);
  const values: Record<string, JsonValue> = {};
  for (const spec of options.ir.params) values[spec.name] = spec.name in overrides ? overrides[spec.name] : spec.default;
  if (!options.ir.params.some((p) => p.constrained)) return values;
  const check: ParamsCheck = { workflowVersion: options.ir.version, workDir: options.workDir, overrides, store: options.store };
  const answer = await (options.check ? options.check(check) : runParamsCheck(check, options.taskEntry));
  if (!answer.ok) throw new ValidationError(answer.message, answer.name ? `params.${answer.name}` : 'params');
  return { ...values, ...answer.values };
}
