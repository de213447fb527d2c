import type { ZodError, ZodType, ZodTypeDef } from 'zod';
import { ValidationError } from './errors';

/**
 * The first issue of a zod failure as the path at fault and a short message: an unknown
 * key is named as a field of its own, and a missing value says `required`.
 */
export function firstZodIssue(error: ZodError): { path: string[]; message: string } {
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    return { path: [...issue.path.map(String), issue.keys[0]], message: `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}` };
  }
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return { path: issue.path.map(String), message: 'required' };
  return { path: issue.path.map(String), message: issue.message };
}

/** How a caller names what a zod failure is about, when the schema's path is not what the user typed. */
export interface IssueNaming {
  /** The error's `field` from the issue's path (default: the path, dotted); e.g. `body.cron`, `kube-target.tolerations.0`. */
  field?: (path: string[]) => string;
  /** What the message calls the field (default: the `field`); e.g. `--port / CELLGRAPH_PORT`. */
  label?: (path: string[]) => string;
  /** Text the message starts with, e.g. `kubernetes target (target.json)`. */
  context?: string;
  /** Text the message ends with, e.g. ` (got "x")`. */
  suffix?: (path: string[]) => string;
}

/**
 * The one conversion of a zod failure into a ValidationError: `[context: ][label: ]message`,
 * with `field` naming the field at fault. The HTTP edge (400 bodies), configuration at boot,
 * the CLI's flags and domain parsing all go through here, so they name fields alike.
 */
export function zodToValidationError(error: ZodError, naming: IssueNaming = {}): ValidationError {
  const { path, message } = firstZodIssue(error);
  const field = naming.field ? naming.field(path) : path.join('.');
  const label = naming.label ? naming.label(path) : field;
  const text = [naming.context, label, message].filter((part) => part !== undefined && part !== '').join(': ');
  return new ValidationError(`${text}${naming.suffix?.(path) ?? ''}`, field === '' ? undefined : field);
}

/** Parses `input` with `schema`, throwing {@link zodToValidationError} of a failure. */
export function parseOrThrow<Out, In>(schema: ZodType<Out, ZodTypeDef, In>, input: unknown, naming?: IssueNaming): Out {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw zodToValidationError(parsed.error, naming);
}
