import { z } from 'zod';
import { ignoreOverride, zodToJsonSchema } from 'zod-to-json-schema';
import { ApiError, COMMON_ERRORS, JsonValue, apiLinks, apiRouteList, documentedRule, type AnyRoute, type ApiRouteName } from '@cellgraph/schema';

/** A JSON Schema or OpenAPI object. */
type JsonObject = Record<string, unknown>;

const JSON_VALUE_REF = { $ref: '#/components/schemas/JsonValue' };
const API_ERROR_REF = { $ref: '#/components/schemas/ApiError' };

/**
 * JSON Schema (OpenAPI 3.0 dialect) for a zod schema, self-contained: every subschema is
 * inlined except JsonValue, the one recursive schema, which lives once in components.
 * Refinements zod-to-json-schema cannot see are stated by the keywords attached with
 * `documented()` next to them in @cellgraph/schema.
 */
export function jsonSchemaOf(schema: z.ZodTypeAny): JsonObject {
  const converted = zodToJsonSchema(schema, {
    target: 'openApi3',
    $refStrategy: 'none',
    effectStrategy: 'input',
    // A query integer is a string piped into a number: document the number.
    pipeStrategy: 'output',
    override: (def) => (def === JsonValue._def ? JSON_VALUE_REF : ignoreOverride),
    postProcess: (json, def) => {
      const rule = documentedRule(def);
      return rule === undefined || json === undefined ? json : { ...json, ...rule };
    }
  }) as JsonObject;
  const { $schema: _ignored, ...rest } = converted;
  return rest;
}

/** JsonValue, written out because it refers to itself (nullable string: 3.0 has no `type: null`). */
const JSON_VALUE_SCHEMA = {
  description: 'any JSON value',
  anyOf: [
    { type: 'string', nullable: true },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'array', items: JSON_VALUE_REF },
    { type: 'object', additionalProperties: JSON_VALUE_REF }
  ]
};

/** The fields of an object schema (through effects such as refine), for path, query and header parameters. */
function objectShape(schema: z.ZodTypeAny): Record<string, z.ZodTypeAny> {
  if (schema instanceof z.ZodObject) return schema.shape as Record<string, z.ZodTypeAny>;
  if (schema instanceof z.ZodEffects) return objectShape(schema.innerType());
  return {};
}

function parameters(schema: z.ZodTypeAny | undefined, where: 'path' | 'query' | 'header'): JsonObject[] {
  if (schema === undefined) return [];
  return Object.entries(objectShape(schema)).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !field.isOptional(),
    // Optionality is `required`; the schema is the value's (zod-to-json-schema would wrap it in `anyOf: [{not: {}}, ...]`).
    schema: jsonSchemaOf(field instanceof z.ZodOptional ? field.unwrap() : field)
  }));
}

const errorResponse = (description: string, headers?: JsonObject) => ({
  description,
  ...(headers !== undefined ? { headers } : {}),
  content: { 'application/json': { schema: API_ERROR_REF } }
});

/** The error statuses one route can answer: the shared ones that apply to it, then its own. */
function errorResponses(r: AnyRoute): Record<string, unknown> {
  const out: Record<string, unknown> = { '400': errorResponse(COMMON_ERRORS[400]) };
  if (r.auth) out['401'] = errorResponse(COMMON_ERRORS[401], { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer realm="cellgraph"' } });
  for (const [status, why] of Object.entries(r.errors)) out[status] = errorResponse(why);
  if (r.method !== 'GET') {
    out['413'] = errorResponse(COMMON_ERRORS[413]);
    out['415'] = errorResponse(COMMON_ERRORS[415]);
  }
  if (r.params !== undefined) out['414'] = errorResponse(COMMON_ERRORS[414]);
  out['500'] = errorResponse(COMMON_ERRORS[500]);
  out['503'] = errorResponse(r.errors[503] ?? COMMON_ERRORS[503]);
  return out;
}

/** OpenAPI links from a route's success answer to the routes that take its ids. */
function links(r: AnyRoute): JsonObject {
  const targets = Object.entries(apiLinks[r.name as ApiRouteName] ?? {});
  if (targets.length === 0) return {};
  return { links: Object.fromEntries(targets.map(([name, parameters]) => [name, { operationId: name, parameters }])) };
}

function successResponse(r: AnyRoute): JsonObject {
  if (r.contentType === 'text/event-stream') {
    // OpenAPI 3.0 reads the schema of an event stream as the schema of each event.
    const event = {
      type: 'object',
      required: ['data'],
      properties: {
        id: { type: 'string', pattern: '^[0-9]+$', description: 'the event seq; send it back as Last-Event-ID to resume after it' },
        event: { type: 'string' },
        data: { type: 'string', description: 'the event as JSON; its schema is `x-event-data`' },
        retry: { type: 'integer' }
      }
    };
    return {
      description: 'Server-Sent Events, one per run or task event; the stream ends after the run ends',
      content: { 'text/event-stream': { schema: event, 'x-event-data': jsonSchemaOf(r.response) } }
    };
  }
  return { description: 'success', content: { [r.contentType]: { schema: jsonSchemaOf(r.response) } }, ...links(r) };
}

function operation(r: AnyRoute): JsonObject {
  const body = r.body;
  return {
    operationId: r.name,
    summary: r.summary,
    tags: [r.tag],
    ...(r.auth ? {} : { security: [] }),
    parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query'), ...parameters(r.headers, 'header')],
    ...(body !== undefined
      ? // A body whose every field is optional may be left out altogether.
        { requestBody: { required: !body.safeParse({}).success, content: { 'application/json': { schema: jsonSchemaOf(body) } } } }
      : {}),
    responses: { [String(r.status)]: successResponse(r), ...errorResponses(r) }
  };
}

/**
 * The OpenAPI 3 document of the API, generated from the route table in @cellgraph/schema,
 * the same declarations the server binds its handlers to, so the two cannot drift apart.
 */
export function buildOpenApi(version: string, routes: readonly AnyRoute[] = apiRouteList): JsonObject {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const url = r.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
    paths[url] ??= {};
    paths[url][r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'cellgraph server',
      version,
      description:
        'Runs, live events, logs, versions, schedules and promotion of notebook workflows. Every error has the body `{"error": {"code", "message", "field"?}}`. ' +
        'A request that does not match this document is a 400 naming the field; one that matches it but cannot be carried out (a notebook that does not compile, a cron expression that never fires) is a 422. ' +
        'A method a path does not have is a 405 with an `Allow` header; a path the API does not have is a 404.'
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { JsonValue: JSON_VALUE_SCHEMA, ApiError: jsonSchemaOf(ApiError) }
    },
    paths
  };
}
