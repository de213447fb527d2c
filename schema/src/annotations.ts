import { z } from 'zod';
import { EnvVarName, TaskName } from './names';

/** The annotation version this release writes. Older documents are upgraded by {@link migrateAnnotation}. */
export const ANNOTATION_VERSION = 1 as const;

/** The cell-metadata key that holds a cellgraph annotation. */
export const ANNOTATION_KEY = 'cellgraph';

/** A Kubernetes CPU quantity: `2`, `0.5`, `500m`. */
const CpuQuantity = z.union([
  z.number().positive().max(1024),
  z.string().regex(/^([0-9]+(\.[0-9]+)?|[0-9]+m)$/, 'must be a CPU quantity such as 2, 0.5 or 500m')
]);

/** A Kubernetes memory quantity: `512Mi`, `2Gi`, `1G`, `1000000`. */
const MemoryQuantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a memory quantity such as 512Mi or 2Gi');

/** Compute a task asks for. Mapped to requests = limits on Kubernetes; advisory locally. */
export const Resources = z
  .object({
    cpu: CpuQuantity.optional(),
    memory: MemoryQuantity.optional(),
    gpu: z.number().int().min(0).max(16).optional()
  })
  .strict();
export type Resources = z.infer<typeof Resources>;

/**
 * A secret exposed to a task as an environment variable. Only the reference is
 * stored (in the IR, in records); the value is resolved by the executor at launch.
 */
export const SecretRef = z
  .object({
    env: EnvVarName,
    secret: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes secret name').max(253),
    key: z.string().min(1).max(253)
  })
  .strict();
export type SecretRef = z.infer<typeof SecretRef>;

/** A TypeScript identifier: the name of an upstream output, or the element binding of a foreach task. */
const Identifier = z.string().max(128).regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'must be a TypeScript identifier');

/**
 * What a task needs of its upstream tasks before it runs (Airflow's trigger rules, kept to two).
 * `all-succeeded` (default): every upstream task succeeded; a skipped upstream skips this task too.
 * `none-failed`: skipped upstream tasks are fine; their outputs read as `undefined` here.
 */
export const TriggerRule = z.enum(['all-succeeded', 'none-failed']);
export type TriggerRule = z.infer<typeof TriggerRule>;

/** `{"task": "train", ...}`: this cell starts a task; unannotated cells after it belong to it. */
export const TaskAnnotation = z
  .object({
    version: z.literal(ANNOTATION_VERSION).optional(),
    task: TaskName,
    after: z.array(TaskName).max(256).optional(),
    retries: z.number().int().min(0).max(20).optional(),
    timeoutSeconds: z.number().positive().max(7 * 24 * 3600).optional(),
    cache: z.boolean().optional(),
    resources: Resources.optional(),
    image: z.string().min(1).max(512).optional(),
    env: z.record(EnvVarName, z.string().max(32768)).optional(),
    secrets: z.array(SecretRef).max(64).optional(),
    /** Run the task once per element of this upstream array output (see docs/dynamic-workflows.md). */
    foreach: Identifier.optional(),
    /** The name the element is bound to inside a foreach task. */
    as: Identifier.optional(),
    /** At most this many elements of a foreach task run at once (default: the engine's slots). */
    maxParallel: z.number().int().min(1).max(100_000).optional(),
    /** Share of a foreach task's elements that must succeed (default 1); failed ones read as `undefined` downstream. */
    minSuccessRatio: z.number().min(0).max(1).optional(),
    /** A TypeScript boolean expression over upstream outputs and parameters; false: the task is skipped. */
    when: z.string().min(1).max(4096).optional(),
    trigger: TriggerRule.optional()
  })
  .strict();
export type TaskAnnotation = z.infer<typeof TaskAnnotation>;

/** The roles a cell can play besides starting a task. */
export const CellRole = z.enum(['setup', 'parameters', 'skip']);
export type CellRole = z.infer<typeof CellRole>;

/** `{"role": "setup" | "parameters" | "skip"}`. */
export const RoleAnnotation = z
  .object({
    version: z.literal(ANNOTATION_VERSION).optional(),
    role: CellRole
  })
  .strict();
export type RoleAnnotation = z.infer<typeof RoleAnnotation>;

/** What may stand under `metadata.cellgraph` of a cell, at the current version. */
export const CellAnnotation = z.union([TaskAnnotation, RoleAnnotation]);
export type CellAnnotation = z.infer<typeof CellAnnotation>;

/** True when the annotation starts a task. */
export function isTaskAnnotation(a: CellAnnotation): a is TaskAnnotation {
  return 'task' in a;
}

/**
 * Version 0: Kubeflow Kale's cell tags (`block:NAME`, `prev:NAME`, `imports`,
 * `functions`, `pipeline-parameters`, `skip`, `limit:nvidia.com/gpu:N`) and papermill's
 * `parameters` tag. Kale users bring notebooks tagged this way; we read them as v1.
 */
export interface AnnotationV0 {
  tags: string[];
}

/** The outcome of reading one cell's annotation. */
export type AnnotationReadResult =
  | { ok: true; annotation: CellAnnotation | undefined; migratedFrom?: number }
  | { ok: false; issues: { path: string; message: string }[] };

/**
 * Upgrades a v0 (tags) annotation to v1. Returns undefined when no tag speaks to cellgraph.
 * Unknown tags are ignored: notebooks carry tags for many tools.
 */
export function migrateV0(v0: AnnotationV0): Record<string, unknown> | undefined {
  let task: string | undefined;
  const after: string[] = [];
  let gpu: number | undefined;
  let role: CellRole | undefined;
  for (const tag of v0.tags) {
    if (tag.startsWith('block:')) task = tag.slice('block:'.length);
    else if (tag.startsWith('prev:')) after.push(tag.slice('prev:'.length));
    else if (tag === 'imports' || tag === 'functions') role = 'setup';
    else if (tag === 'pipeline-parameters' || tag === 'parameters') role = 'parameters';
    else if (tag === 'skip') role = 'skip';
    else if (tag.startsWith('limit:nvidia.com/gpu:')) gpu = Number(tag.slice('limit:nvidia.com/gpu:'.length));
  }
  if (task !== undefined) {
    const out: Record<string, unknown> = { version: 1, task };
    if (after.length > 0) out.after = after;
    if (gpu !== undefined) out.resources = { gpu };
    return out;
  }
  if (role !== undefined) return { version: 1, role };
  return undefined;
}

/** Each step takes a document at version N-1 to version N. Index = target version. */
const MIGRATIONS: Record<number, (doc: AnnotationV0) => Record<string, unknown> | undefined> = {
  1: migrateV0
};

/**
 * Reads a cell's annotation from its metadata: `metadata.cellgraph` when present
 * (validated at the current version), else the v0 tags, migrated.
 * Errors carry the path of the offending field, e.g. `cellgraph.retries`.
 */
export function readCellAnnotation(metadata: Record<string, unknown> | undefined): AnnotationReadResult {
  const raw = metadata?.[ANNOTATION_KEY];
  if (raw !== undefined) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return { ok: false, issues: [{ path: ANNOTATION_KEY, message: 'must be a JSON object such as {"task": "train"}' }] };
    }
    const version = (raw as { version?: unknown }).version;
    if (version !== undefined && version !== ANNOTATION_VERSION) {
      return {
        ok: false,
        issues: [{ path: `${ANNOTATION_KEY}.version`, message: `unsupported version ${JSON.stringify(version)}; this cellgraph reads version ${ANNOTATION_VERSION}` }]
      };
    }
    const parsed = CellAnnotation.safeParse(raw);
    if (!parsed.success) return { ok: false, issues: explainAnnotationError(raw as Record<string, unknown>, parsed.error) };
    return { ok: true, annotation: parsed.data };
  }
  const tags = metadata?.tags;
  if (Array.isArray(tags) && tags.every((t) => typeof t === 'string')) {
    const migrated = MIGRATIONS[1]({ tags: tags as string[] });
    if (migrated === undefined) return { ok: true, annotation: undefined };
    const parsed = CellAnnotation.safeParse(migrated);
    if (!parsed.success) {
      return { ok: false, issues: explainAnnotationError(migrated, parsed.error).map((i) => ({ ...i, path: `tags (${i.path})` })) };
    }
    return { ok: true, annotation: parsed.data, migratedFrom: 0 };
  }
  return { ok: true, annotation: undefined };
}

/**
 * zod reports a failed union as "invalid input"; users need the branch they meant.
 * A `task` key means they meant a task annotation, a `role` key a role annotation.
 */
function explainAnnotationError(raw: Record<string, unknown>, unionError: z.ZodError): { path: string; message: string }[] {
  const branch = 'task' in raw ? TaskAnnotation : 'role' in raw ? RoleAnnotation : undefined;
  if (branch === undefined) {
    return [{ path: ANNOTATION_KEY, message: 'needs a "task" (a task name) or a "role" (setup, parameters or skip)' }];
  }
  const result = branch.safeParse(raw);
  const error = result.success ? unionError : result.error;
  return error.issues.map((issue) => ({
    path: [ANNOTATION_KEY, ...issue.path].join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message
  }));
}
