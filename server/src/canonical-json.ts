/**
 * JSON with object keys sorted, so equal documents serialize (and hash) equally whatever
 * order their keys were built or parsed in (zod's parse, for one, reorders keys).
 */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    indent
  );
}
