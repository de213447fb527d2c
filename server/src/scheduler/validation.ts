import { ZodError, ZodType, ZodTypeDef } from 'zod';
import { ValidationError } from '../errors';
import { firstZodIssue } from '../zod-issue';

/**
 * Parses `input` with `schema`, turning a zod failure into a ValidationError whose `field`
 * is the dotted path at fault (`cron`, `params.epochs`, or the unknown key itself), so
 * callers outside the HTTP edge get the same answer a request body would.
 */
export function parseOrThrow<Out, In>(schema: ZodType<Out, ZodTypeDef, In>, input: unknown): Out {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw zodToValidationError(parsed.error);
}

/** The first issue of a ZodError as a ValidationError naming its field. */
export function zodToValidationError(error: ZodError): ValidationError {
  const { path, message } = firstZodIssue(error);
  const field = path.join('.');
  return new ValidationError(field === '' ? message : `${field}: ${message}`, field === '' ? undefined : field);
}

/**
 * A schedule id that is already taken. Its `name` is `ConflictError` so the HTTP edge can
 * answer 409 by name, as it does for the domain errors in `errors.ts`.
 */
export class ScheduleConflictError extends Error {
  override name = 'ConflictError';
  /** Always `id`: the only field that can clash. */
  readonly field = 'id';
}
