import { z } from 'zod';
import { Resources, SecretRef, TriggerRule } from './annotations';
import { ContentHash, EnvVarName, ParamName, TaskName } from './names';
import { JsonValue } from './notebook';

/** The IR version this release writes and reads. */
export const IR_VERSION = 1 as const;

/** The JSON-level kind of a parameter, used to parse `-p name=value` and to build forms. */
export const ParamKind = z.enum(['number', 'string', 'boolean', 'json']);
export type ParamKind = z.infer<typeof ParamKind>;

/** A workflow parameter, declared in the parameters cell. */
export const ParamSpec = z.object({
  name: ParamName,
  kind: ParamKind,
  /** The TypeScript type, widened (`number`, not `0.1`). */
  type: z.string(),
  default: JsonValue,
  /** True when declared with `param(name, schema, default)`: the schema is checked by running the parameters module. */
  constrained: z.boolean(),
  /** Index of the parameters cell. */
  cell: z.number().int().min(0)
});
export type ParamSpec = z.infer<typeof ParamSpec>;

/** A typed value a task reads or writes. */
export const Port = z.object({
  name: z.string(),
  /** TypeScript type text as the checker prints it, e.g. `{ x: number; y: string; }[]`. */
  type: z.string()
});
export type Port = z.infer<typeof Port>;

/** The type text of a list of `type`: `U[]` (`U[][]` for a list of lists), or `(U | V)[]` when `U` is not a simple name. */
export function listTypeText(type: string): string {
  return /^[\w$.]+(<.*>)?(\[\])*$/.test(type) && !type.includes('|') && !type.includes('=>') ? `${type}[]` : `(${type})[]`;
}

/**
 * An input port and the task that produces it. `elementOf` marks a foreach task's element
 * binding: the value is one element of the producer's array output of that name.
 */
export const InputPort = Port.extend({ from: TaskName, elementOf: z.string().optional() });
export type InputPort = z.infer<typeof InputPort>;

/** Per-task execution policy, resolved from the annotation with defaults applied. */
export const TaskPolicy = z.object({
  retries: z.number().int().min(0),
  timeoutSeconds: z.number().positive().optional(),
  cache: z.boolean(),
  resources: Resources,
  image: z.string().optional(),
  env: z.record(EnvVarName, z.string()),
  secrets: z.array(SecretRef)
});
export type TaskPolicy = z.infer<typeof TaskPolicy>;

/**
 * A foreach task's expansion: one attempt per element of the upstream array `over`, bound
 * to `as` inside. Each output `x: U` reaches downstream tasks as `x: U[]` in element order
 * (`(U | undefined)[]` when `minSuccessRatio` < 1: a failed element is `undefined`).
 */
export const ForeachSpec = z.object({
  over: z.string(),
  as: z.string(),
  /** The task producing `over`. */
  from: TaskName,
  maxParallel: z.number().int().min(1).optional(),
  minSuccessRatio: z.number().min(0).max(1)
});
export type ForeachSpec = z.infer<typeof ForeachSpec>;

/**
 * One task: the cells it runs, its typed ports and policy, and its generated module.
 *
 * `module` is CommonJS JavaScript whose `module.exports` is
 * `async (cg: TaskContext) => Record<string, unknown>` (see kernel-lib's runner):
 * imports, setup cells, the parameters cell, `await cg.loadInputs()`, then the task's
 * cells, each preceded by `cg.enterCell(index)`, returning the output values.
 * Shipping generated JavaScript keeps TypeScript out of the task process (fast start).
 */
export const TaskIR = z.object({
  name: TaskName,
  /** Notebook cell indices of the task's own cells, in order. */
  cells: z.array(z.number().int().min(0)).min(1),
  inputs: z.array(InputPort),
  outputs: z.array(Port),
  /** Parameters the task's code reads (only these enter its cache key). */
  params: z.array(ParamName),
  /** Explicit ordering edges from the annotation. */
  after: z.array(TaskName),
  /** Every task this one waits for (data and ordering), sorted. */
  upstream: z.array(TaskName),
  policy: TaskPolicy,
  module: z.string(),
  /** sha256 of the normalized module (comments and formatting do not count). */
  codeHash: ContentHash,
  foreach: ForeachSpec.optional(),
  /** The task's condition as written; the module evaluates it and reports `skipped` when false. */
  when: z.string().optional(),
  /** Absent means `all-succeeded`. */
  trigger: TriggerRule.optional()
});
export type TaskIR = z.infer<typeof TaskIR>;

/** An edge between two tasks: data (carrying named, typed values) or ordering only. */
export const Edge = z.object({
  from: TaskName,
  to: TaskName,
  kind: z.enum(['data', 'order']),
  values: z.array(Port)
});
export type Edge = z.infer<typeof Edge>;

/** What each notebook cell is to the workflow; the extension and the executed notebook use it. */
export const CellPlan = z.object({
  cell: z.number().int().min(0),
  kind: z.enum(['setup', 'parameters', 'skip', 'task', 'markdown']),
  task: TaskName.optional()
});
export type CellPlan = z.infer<typeof CellPlan>;

/** The container image a workflow's tasks run in, once built. */
export const ImageRef = z.object({
  reference: z.string(),
  digest: ContentHash
});
export type ImageRef = z.infer<typeof ImageRef>;

/**
 * The engine-neutral workflow document (like KFP's pipeline spec). `version` is the
 * content hash of everything else but `source.path`, so one notebook content = one version.
 */
export const WorkflowIR = z.object({
  irVersion: z.literal(IR_VERSION),
  name: TaskName,
  version: ContentHash,
  source: z.object({
    /** The notebook path as given to the compiler (informational; not hashed). */
    path: z.string(),
    notebookHash: ContentHash
  }),
  params: z.array(ParamSpec),
  /** CommonJS module evaluating the parameters cell (with overrides) and validating `param()` schemas. */
  paramsModule: z.string(),
  tasks: z.array(TaskIR).min(1),
  edges: z.array(Edge),
  cells: z.array(CellPlan),
  image: ImageRef.optional()
});
export type WorkflowIR = z.infer<typeof WorkflowIR>;
