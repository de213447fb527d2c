import { currentRun } from './runtime';

/** The part of a zod schema `param` uses; any zod 3 schema fits. */
export interface ParamSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { path: (string | number)[]; message: string }[] } };
}

/** A parameter value refused by its schema, or of the wrong type. */
export class ParamError extends Error {
  override name = 'ParamError';
  /** The parameter at fault. */
  readonly param: string;
  constructor(param: string, message: string) {
    super(`parameter "${param}": ${message}`);
    this.param = param;
  }
}

/**
 * A workflow parameter with a constraint, for the parameters cell:
 * `const epochs = param("epochs", z.number().int().min(1), 10);`
 * Interactively it returns the default (checked); in a run, the run's value if one was
 * given. cellgraph checks every value before any task starts.
 */
export function param<T>(name: string, schema: ParamSchema<T>, defaultValue: T): T {
  const ctx = currentRun();
  const raw = ctx !== undefined && Object.prototype.hasOwnProperty.call(ctx.params, name) ? ctx.params[name] : defaultValue;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` (at ${issue.path.join('.')})` : '';
    throw new ParamError(name, `${issue?.message ?? 'invalid value'}${where}; got ${JSON.stringify(raw)}`);
  }
  return parsed.data;
}
