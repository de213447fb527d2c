import { z } from 'zod';

/**
 * The parts of nbformat 4 that cellgraph reads and writes. Unknown fields are kept
 * (passthrough) so that writing an executed copy never drops another tool's metadata.
 */

/** nbformat's multiline string: a string or a list of lines. */
export const MultilineString = z.union([z.string(), z.array(z.string())]);

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const JsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValue), z.record(JsonValue)])
);

/** A cell output, as nbformat 4 defines its four kinds. */
export const CellOutput = z.discriminatedUnion('output_type', [
  z.object({ output_type: z.literal('stream'), name: z.enum(['stdout', 'stderr']), text: MultilineString }).passthrough(),
  z
    .object({
      output_type: z.literal('display_data'),
      data: z.record(JsonValue),
      metadata: z.record(JsonValue).default({})
    })
    .passthrough(),
  z
    .object({
      output_type: z.literal('execute_result'),
      data: z.record(JsonValue),
      metadata: z.record(JsonValue).default({}),
      execution_count: z.number().int().nullable()
    })
    .passthrough(),
  z
    .object({ output_type: z.literal('error'), ename: z.string(), evalue: z.string(), traceback: z.array(z.string()) })
    .passthrough()
]);
export type CellOutput = z.infer<typeof CellOutput>;

export const NotebookCell = z
  .object({
    cell_type: z.enum(['code', 'markdown', 'raw']),
    source: MultilineString,
    metadata: z.record(z.unknown()).default({}),
    outputs: z.array(CellOutput).optional(),
    execution_count: z.number().int().nullable().optional(),
    id: z.string().optional()
  })
  .passthrough();
export type NotebookCell = z.infer<typeof NotebookCell>;

export const Notebook = z
  .object({
    nbformat: z.literal(4, { errorMap: () => ({ message: 'only nbformat 4 notebooks are supported' }) }),
    nbformat_minor: z.number().int().min(0),
    metadata: z.record(z.unknown()).default({}),
    cells: z.array(NotebookCell)
  })
  .passthrough();
export type Notebook = z.infer<typeof Notebook>;

/** Joins nbformat's multiline string into one string. */
export function sourceText(source: string | string[]): string {
  return Array.isArray(source) ? source.join('') : source;
}
