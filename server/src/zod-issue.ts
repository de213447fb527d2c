import type { ZodError } from 'zod';

/**
 * The first issue of a zod failure as the path at fault and a short message: an unknown
 * key is named as a field of its own, and a missing value says `required`. Shared by the
 * HTTP edge (400 bodies) and domain parsing (ValidationError), so both name fields alike.
 */
export function firstZodIssue(error: ZodError): { path: string[]; message: string } {
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    return { path: [...issue.path.map(String), issue.keys[0]], message: `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}` };
  }
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return { path: issue.path.map(String), message: 'required' };
  return { path: issue.path.map(String), message: issue.message };
}
