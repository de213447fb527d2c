import { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { ApiError, JsonValue } from '@cellgraph/schema';
import type { ApiRoute } from './route';

/** A JSON Schema object as zod-to-json-schema emits it (OpenAPI 3 dialect). */
type JsonSchema = Record<string, unknown>;

/** Recursive schemas live once under components/schemas and are referenced from everywhere. */
const SHARED = { JsonValue };
const SHARED_PATH = 'components/schemas';

function convert(schema: z.ZodTypeAny): JsonSchema {
  return zodToJsonSchema(schema, { target: 'openApi3', $refStrategy: 'root', definitions: SHARED, definitionPath: SHARED_PATH }) as JsonSchema;
}

function toSchema(schema: z.ZodTypeAny): JsonSchema {
  const { $schema: _schema, [SHARED_PATH]: _shared, ...rest } = convert(schema);
  return rest;
}

function sharedSchemas(): JsonSchema {
  const shared = convert(z.object({}))[SHARED_PATH];
  return typeof shared === 'object' && shared !== null ? (shared as JsonSchema) : {};
}

/** The fields of an object schema (through effects such as refine), for path and query parameters. */
function objectShape(schema: z.ZodTypeAny): Record<string, z.ZodTypeAny> {
  if (schema instanceof z.ZodObject) return schema.shape as Record<string, z.ZodTypeAny>;
  if (schema instanceof z.ZodEffects) return objectShape(schema.innerType());
  return {};
}

function parameters(schema: z.ZodTypeAny | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (schema === undefined) return [];
  return Object.entries(objectShape(schema)).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !field.isOptional(),
    schema: toSchema(field)
  }));
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: toSchema(ApiError) } } });

/**
 * The OpenAPI 3 document of the API, generated from the same zod schemas the routes
 * parse with, so documentation and behaviour cannot drift apart.
 */
export function buildOpenApi(routes: readonly ApiRoute[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const url = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const responses: Record<string, unknown> = {
      [String(r.status)]: {
        description: 'success',
        content: { [r.produces]: r.response ? { schema: toSchema(r.response) } : { schema: { type: 'string' } } }
      },
      '400': errorResponse('bad input; `error.field` names the field at fault'),
      '500': errorResponse('internal error; details only in the server log')
    };
    if (r.auth) responses['401'] = errorResponse('missing or wrong bearer token');
    if (r.params) responses['404'] = errorResponse('unknown id');
    if (r.body) responses['413'] = errorResponse('request body too large');
    paths[url] ??= {};
    paths[url][r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth ? {} : { security: [] }),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(r.body) } } } } : {}),
      responses
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'cellgraph server', version, description: 'Runs, live events, logs, versions and promotion of notebook workflows.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: sharedSchemas() },
    paths
  };
}
