import { z } from 'zod';
import { documented } from './documented';

/**
 * A task name: lowercase, starts with a letter, at most 63 characters.
 * It ends up in file paths, pod names and Kubernetes labels, so anything that
 * could traverse a path or inject a shell word is refused here, once.
 */
export const TaskName = z
  .string()
  .max(63, 'at most 63 characters (it becomes a Kubernetes label)')
  .regex(/^[a-z][a-z0-9_-]*$/, 'must match [a-z][a-z0-9_-]* (lowercase letter first; letters, digits, _ and - after)');
export type TaskName = z.infer<typeof TaskName>;

/** A workflow parameter name: a TypeScript identifier, as declared in the parameters cell. */
export const ParamName = z
  .string()
  .max(128)
  .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'must be a TypeScript identifier');

/** An environment variable name as POSIX shells accept it. */
export const EnvVarName = z
  .string()
  .max(256)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must match [A-Za-z_][A-Za-z0-9_]*');

/** A run id: `r-` + timestamp + random suffix, or a schedule-derived id. Safe as a path segment. */
export const RunId = documented(
  z
    .string()
    .max(128)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must match [a-z0-9][a-z0-9._-]*')
    .refine((s) => !s.includes('..'), 'must not contain ".."'),
  // The same rule as one pattern: every "." is followed by something other than ".".
  { pattern: '^[a-z0-9](\\.?[a-z0-9_-])*\\.?$' }
);
export type RunId = z.infer<typeof RunId>;

/** A content hash as written everywhere in cellgraph: `sha256:` + 64 hex digits. */
export const ContentHash = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>');
export type ContentHash = z.infer<typeof ContentHash>;
