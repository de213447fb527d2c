import type { z } from 'zod';

/**
 * JSON Schema keywords that state, in the OpenAPI document, a rule a zod schema enforces
 * with a refinement (which JSON Schema generators cannot see): "exactly one of two fields",
 * "five cron fields". The document generator merges them into the schema generated for
 * the zod schema they are attached to, so each rule is written next to its check.
 */
const rules = new WeakMap<z.ZodTypeDef, Record<string, unknown>>();

/** Attaches the JSON Schema statement of `schema`'s refinements; returns `schema` itself. */
export function documented<S extends z.ZodTypeAny>(schema: S, jsonSchema: Record<string, unknown>): S {
  rules.set(schema._def, { ...rules.get(schema._def), ...jsonSchema });
  return schema;
}

/** The JSON Schema keywords attached to a zod schema's definition, if any. */
export function documentedRule(def: z.ZodTypeDef): Record<string, unknown> | undefined {
  return rules.get(def);
}
