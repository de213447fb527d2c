import { z } from 'zod';
import { Diagnostic } from './diagnostics';
import { ParamKind, WorkflowIR } from './ir';
import { ProjectName } from './identity';
import { ContentHash, RunId, TaskName } from './names';
import { documented } from './documented';
import { JsonValue } from './notebook';
import { ElementCounts, ElementRecord, ElementState, Metrics, OutputRef, RunOptions, RunRecord, RunStatus, RunSummary, TaskStatus } from './runs';
import { WebhookUrl } from './schedules';

/**
 * Bodies of the companion server's HTTP API (`/api/v1`). The server parses every request
 * with these and the CLI and extension parse every response with them, so both sides
 * agree by construction; the OpenAPI document is generated from the same schemas.
 * Request schemas are strict: an unknown field is a 400 naming it, never silently ignored.
 */

/** Machine-readable error codes; clients branch on these, never on messages. */
export const ApiErrorCode = z.enum([
  'bad-request', // malformed JSON, wrong content type
  'invalid', // a field has the wrong type or value (see `field`)
  'unauthorized', // missing or wrong bearer token
  'forbidden', // the caller's role or token scopes do not allow this action
  'not-found', // unknown run, task, workflow or version, or a path the API does not have
  'method-not-allowed', // the path exists, the method does not (see the Allow header)
  'conflict', // the request does not fit the resource's state (retry a running run)
  'payload-too-large',
  'compile-error', // the notebook does not compile (see `diagnostics`)
  'compile-limit', // the compile ran past its time or memory limit (the message names which)
  'unavailable', // the server is shutting down
  'internal' // a bug or an infrastructure failure; details only in the server's log
]);
export type ApiErrorCode = z.infer<typeof ApiErrorCode>;

/** Every error response: `{error: {code, message, field?, diagnostics?}}`. */
export const ApiError = z.object({
  error: z.object({
    code: ApiErrorCode,
    message: z.string(),
    /** The field at fault, as a dotted path (`params.epochs`, `body.notebook`). */
    field: z.string().optional(),
    /** For `compile-error`: the compiler's diagnostics, cell by cell. */
    diagnostics: z.array(Diagnostic).optional()
  })
});
export type ApiError = z.infer<typeof ApiError>;

/** GET /api/v1/health (the one route without a token). */
export const HealthResponse = z.object({
  status: z.enum(['ok', 'draining']),
  version: z.string(),
  /** Where this server runs tasks: the promote dialog shows it as the target. */
  executor: z.enum(['local', 'kubernetes'])
});
export type HealthResponse = z.infer<typeof HealthResponse>;

/** Notebook content as submitted: the nbformat JSON document, or its text. */
export const NotebookContent = z.union([z.string().min(1), z.record(z.unknown())]);
export type NotebookContent = z.infer<typeof NotebookContent>;

/** A file name for uploaded notebook content: one path segment ending in .ipynb. */
export const NotebookFileName = documented(
  z
    .string()
    .max(255)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._ -]*\.ipynb$/, 'must be a file name ending in .ipynb (no directories)')
    .refine((s) => !s.includes('..'), 'must not contain ".."'),
  // The same rule as one pattern: every "." is followed by something other than ".".
  { pattern: '^[A-Za-z0-9](\\.?[A-Za-z0-9_ -])*\\.ipynb$' }
);

/**
 * A folder inside the server's work directory, relative to it (`analysis/2026`; empty: the
 * work directory itself): `/`-separated names, none `.` or `..`, not absolute.
 */
export const NotebookDir = z
  .string()
  .max(1024)
  .refine((s) => s === '' || s.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..' && !/[\\\0]/.test(seg)), 'must be a relative folder inside the work directory (names separated by "/", no "." or "..")');

/**
 * Where a notebook comes from: a path on the server's machine, or the content itself
 * (with a file name, which names the workflow). Exactly one of the two.
 */
const NotebookSourceFields = {
  /** A path on the server's machine (absolute, or relative to the server's work directory). */
  notebookPath: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^[^\u0000]*\.[iI][pP][yY][nN][bB]$/, 'must name an .ipynb file')
    .optional(),
  notebook: NotebookContent.optional(),
  /** File name for `notebook` content (default `notebook.ipynb`); with notebookDir it names the workflow (its path relative to the work directory). */
  notebookName: NotebookFileName.optional(),
  /**
   * Folder of `notebook` content relative to the server's work directory: its tasks run there
   * and its imports and data files resolve from there, as in the kernel (JupyterLab sends the
   * notebook's folder). Ignored when the server has no such folder: the content runs in the
   * work directory, as without it.
   */
  notebookDir: NotebookDir.optional(),
  /** The project the run or workflow belongs to (default `default`); the caller's role there decides. */
  project: ProjectName.optional()
};

/** "Exactly one of notebookPath and notebook", as the OpenAPI document states it. */
const EXACTLY_ONE_SOURCE = { oneOf: [{ required: ['notebookPath'] }, { required: ['notebook'] }] };

function exactlyOneSource(v: { notebookPath?: string; notebook?: unknown }, ctx: z.RefinementCtx): void {
  if ((v.notebookPath === undefined) === (v.notebook === undefined)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give exactly one of notebookPath and notebook', path: ['notebook'] });
  }
}

/** Parameter values, typed as JSON; checked against the workflow's declared kinds. */
export const ParamValues = z.record(JsonValue);

/** POST /api/v1/runs. */
export const CreateRunRequest = z
  .object({
    ...NotebookSourceFields,
    params: ParamValues.optional(),
    /** `name=value` strings parsed by each parameter's declared kind, as `cellgraph run -p` does. */
    paramAssignments: z.array(z.string().max(65536)).max(1000).optional(),
    noCache: z.boolean().optional(),
    /** Notified (POST, JSON {@link RunNotification}) when the run succeeds or fails. */
    webhookUrl: WebhookUrl.optional()
  })
  .strict()
  .superRefine(exactlyOneSource);
documented(CreateRunRequest, EXACTLY_ONE_SOURCE);
export type CreateRunRequest = z.infer<typeof CreateRunRequest>;

/**
 * An integer in a query string: decimal digits only (`?after=` and `?limit=1e2` are refused,
 * where Number() would read 0 and 100).
 */
const queryInteger = (number: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && !/^-?[0-9]{1,16}$/.test(v) ? Number.NaN : v), z.coerce.number().pipe(number));

/** Path parameters naming a run. */
export const RunPathParams = z.object({ id: RunId }).strict();
/** Path parameters naming a task of a run. */
export const TaskPathParams = z.object({ id: RunId, task: TaskName }).strict();

/** GET /api/v1/runs query. */
export const ListRunsQuery = z
  .object({
    limit: queryInteger(z.number().int().min(1).max(1000)).optional(),
    status: RunStatus.optional(),
    /** Only runs of this project (one the caller can see; another lists nothing). */
    project: ProjectName.optional(),
    /** Only runs of this workflow (the notebook client's `runs.latest("iris")`). */
    workflow: TaskName.optional()
  })
  .strict();
export type ListRunsQuery = z.infer<typeof ListRunsQuery>;

/** What started a run: a person or client (`manual`), a schedule's fire, or a retry of another run. */
export const RunTrigger = z.enum(['manual', 'schedule', 'retry']);
export type RunTrigger = z.infer<typeof RunTrigger>;

/** A run in a listing: its record plus task progress (what `cellgraph runs --json` prints per row). */
export const RunListItem = RunRecord.extend({
  done: z.number().int().min(0),
  total: z.number().int().min(0),
  /** The run's project (servers before projects answer without it). */
  project: z.string().optional(),
  /** How many of its tasks were served from the cache (did not run). */
  cached: z.number().int().min(0).optional(),
  trigger: RunTrigger.optional(),
  /** The schedule that started it, for a scheduled run. */
  scheduleId: z.string().optional(),
  /** The run this one retries. */
  retryOf: RunId.optional(),
  /** From start (or creation) to finish; absent while it runs. */
  durationMs: z.number().min(0).optional(),
  /** Every metric its tasks logged, by name (`<task>.<name>` when two tasks log the same name). */
  metrics: Metrics.optional()
});
export type RunListItem = z.infer<typeof RunListItem>;

export const ListRunsResponse = z.object({ runs: z.array(RunListItem) });
export type ListRunsResponse = z.infer<typeof ListRunsResponse>;

/**
 * One stretch of a task's life in a run, from its events: waiting for a slot (`queued`), an
 * attempt running, the backoff after a failed attempt (`retrying`), or served from the cache
 * (`cached`, an instant). What a run's timeline (Gantt) draws.
 */
export const TaskSpan = z.object({
  state: TaskStatus,
  attempt: z.number().int().min(0).optional(),
  start: z.string(),
  /** Absent while the span lasts. */
  end: z.string().optional()
});
export type TaskSpan = z.infer<typeof TaskSpan>;

/** Per-task state beyond the summary line: when it ran and its cache key. */
export const TaskDetail = z.object({
  name: TaskName,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  cacheKey: ContentHash.optional(),
  /** The task's spans in order (queued, each attempt, retries, cached). */
  spans: z.array(TaskSpan).optional()
});

/**
 * GET /api/v1/runs/:id and every call that returns a run: the `cellgraph run --json`
 * summary plus the run's timestamps and error.
 */
export const RunDetail = RunSummary.extend({
  notebookPath: z.string(),
  executor: z.string(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  error: z.string().optional(),
  /** The run this one retries, when it is a retry. */
  retryOf: RunId.optional(),
  /** The options the run was submitted with (noCache; a scheduled run's fire instant and lateness). */
  options: RunOptions.optional(),
  trigger: RunTrigger.optional(),
  /** The schedule that started it, for a scheduled run. */
  scheduleId: z.string().optional(),
  /** Every metric its tasks logged, by name (`<task>.<name>` when two tasks log the same name). */
  metrics: Metrics.optional(),
  taskDetails: z.array(TaskDetail)
});
export type RunDetail = z.infer<typeof RunDetail>;

/** POST /api/v1/runs/:id/retry. */
export const RetryRunRequest = z
  .object({
    /** Re-run the failed tasks even when the cache holds a result for them. */
    noCache: z.boolean().optional()
  })
  .strict();
export type RetryRunRequest = z.infer<typeof RetryRunRequest>;

/** GET /api/v1/runs/:id/logs query. */
export const LogsQuery = z
  .object({
    task: TaskName.optional(),
    attempt: queryInteger(z.number().int().min(1).max(1_000_000)).optional(),
    /** One element of a foreach task (with `task`): that element's attempts instead of the task's. */
    element: queryInteger(z.number().int().min(0).max(100_000_000)).optional()
  })
  .strict();
export type LogsQuery = z.infer<typeof LogsQuery>;

/** One attempt's output; `live` while the attempt still runs (the text grows). */
export const AttemptLog = z.object({
  attempt: z.number().int().min(1),
  live: z.boolean(),
  text: z.string()
});

export const TaskLogs = z.object({
  task: TaskName,
  /** Set when the logs are one element's of a foreach task. */
  element: z.number().int().min(0).optional(),
  status: TaskStatus,
  cached: z.boolean(),
  attempts: z.array(AttemptLog)
});
export type TaskLogs = z.infer<typeof TaskLogs>;

/** GET /api/v1/runs/:id/logs. */
export const RunLogsResponse = z.object({
  runId: RunId,
  status: RunStatus,
  tasks: z.array(TaskLogs)
});
export type RunLogsResponse = z.infer<typeof RunLogsResponse>;

/** GET /api/v1/runs/:id/tasks/:task/elements query: one page of a foreach task's elements. */
export const ElementsQuery = z
  .object({
    /** Only elements in this state. */
    state: ElementState.optional(),
    /** Elements to skip (of those matching), for the next page. */
    offset: queryInteger(z.number().int().min(0).max(100_000_000)).optional(),
    /** At most this many elements (default 100). */
    limit: queryInteger(z.number().int().min(1).max(1000)).optional()
  })
  .strict();
export type ElementsQuery = z.infer<typeof ElementsQuery>;

/** GET /api/v1/runs/:id/tasks/:task/elements: a page of a foreach task's elements, in element order. */
export const TaskElementsResponse = z.object({
  runId: RunId,
  task: TaskName,
  status: TaskStatus,
  /** Counts over every element of the task. */
  counts: ElementCounts,
  /** How many elements match the filter (the page is `offset`.. of these). */
  matching: z.number().int().min(0),
  offset: z.number().int().min(0),
  limit: z.number().int().min(1),
  elements: z.array(ElementRecord)
});
export type TaskElementsResponse = z.infer<typeof TaskElementsResponse>;

/** GET /api/v1/runs/:id/tasks/:task/outputs: each output with its encoded value (what `cellgraph outputs --json` prints). */
export const TaskOutputsResponse = z.object({
  runId: RunId,
  task: TaskName,
  status: TaskStatus,
  outputs: z.array(OutputRef.extend({ value: z.unknown() })),
  metrics: Metrics
});
export type TaskOutputsResponse = z.infer<typeof TaskOutputsResponse>;

/** GET /api/v1/runs/:id/events query; the `Last-Event-ID` header takes precedence. */
export const EventsQuery = z
  .object({
    after: queryInteger(z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER)).optional()
  })
  .strict();

/** GET /api/v1/runs/:id/events headers: `Last-Event-ID` (an event seq) resumes after that event. */
export const EventsHeaders = z
  .object({
    'last-event-id': z
      .string()
      .regex(/^(-1|[0-9]{1,15})$/, 'must be an event seq (integer)')
      .transform(Number)
      .optional()
  })
  .passthrough();

/**
 * POST /api/v1/compile: what a notebook compiles to, without running or storing anything
 * (the live DAG in the editor calls it as the user types). Diagnostics are the expected
 * answer for a notebook being edited, so they come with 200, not 422.
 */
export const CompileRequest = documented(z.object(NotebookSourceFields).strict().superRefine(exactlyOneSource), EXACTLY_ONE_SOURCE);
export type CompileRequest = z.infer<typeof CompileRequest>;

/** The IR when the notebook compiles; every diagnostic (errors and warnings) either way. */
export const CompileResponse = z.object({
  ok: z.boolean(),
  ir: WorkflowIR.optional(),
  diagnostics: z.array(Diagnostic)
});
export type CompileResponse = z.infer<typeof CompileResponse>;

/** POST /api/v1/workflows/promote. */
export const PromoteRequest = z
  .object({
    ...NotebookSourceFields,
    /** Also start a run of the promoted version on the production target. */
    run: z.boolean().optional(),
    params: ParamValues.optional()
  })
  .strict()
  .superRefine(exactlyOneSource);
documented(PromoteRequest, EXACTLY_ONE_SOURCE);
export type PromoteRequest = z.infer<typeof PromoteRequest>;

/** A frozen, promoted workflow version. `number` counts promotions of one workflow: 1, 2, ... */
/**
 * Answers written before versions carried each parameter's kind (an older server) have
 * none: the kind is then the JSON kind of the default, which is what the compiler
 * derives it from for literal defaults.
 */
export function migrateVersionParam(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || 'kind' in raw) return raw;
  const value = (raw as { default?: unknown }).default;
  const kind = typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : typeof value === 'string' ? 'string' : 'json';
  return { ...raw, kind };
}

/** A parameter of a promoted version: its kind says how `name=value` text parses (schema/src/params.ts). */
export const VersionParam = z.preprocess(migrateVersionParam, z.object({ name: z.string(), kind: ParamKind, type: z.string(), default: JsonValue }));
export type VersionParam = z.infer<typeof VersionParam>;

export const WorkflowVersion = z.object({
  workflow: TaskName,
  number: z.number().int().min(1),
  version: ContentHash,
  notebookPath: z.string(),
  promotedAt: z.string(),
  tasks: z.array(TaskName),
  params: z.array(VersionParam)
});
export type WorkflowVersion = z.infer<typeof WorkflowVersion>;

export const PromoteResponse = z.object({
  /** False when this content was promoted before: the same notebook twice is one version. */
  created: z.boolean(),
  version: WorkflowVersion,
  run: RunDetail.optional()
});
export type PromoteResponse = z.infer<typeof PromoteResponse>;

export const WorkflowListItem = z.object({
  workflow: TaskName,
  versions: z.number().int().min(1),
  latest: WorkflowVersion,
  /** The workflow's project (servers before projects answer without it). */
  project: z.string().optional()
});
export const ListWorkflowsResponse = z.object({ workflows: z.array(WorkflowListItem) });
export type ListWorkflowsResponse = z.infer<typeof ListWorkflowsResponse>;

export const ListVersionsResponse = z.object({ workflow: TaskName, versions: z.array(WorkflowVersion) });
export type ListVersionsResponse = z.infer<typeof ListVersionsResponse>;

/** A version reference in a path: its number (`3`) or its content hash. */
export const VersionRef = z.union([z.string().regex(/^[1-9][0-9]{0,8}$/, 'a version number'), ContentHash]);

export const WorkflowPathParams = z.object({ name: TaskName }).strict();

/** GET /api/v1/workflows/:name/types query: the version to describe (default: that of the workflow's latest run). */
export const WorkflowTypesQuery = z.object({ version: ContentHash.optional() }).strict();
export type WorkflowTypesQuery = z.infer<typeof WorkflowTypesQuery>;

/**
 * TypeScript declarations of a workflow version's task outputs, for the notebook client:
 * saved as a `.d.ts` beside the notebook, they type `runs.latest("iris")`'s tasks and outputs.
 */
export const WorkflowTypesResponse = z.object({
  workflow: TaskName,
  version: ContentHash,
  /** The declaration file's text. */
  declarations: z.string()
});
export type WorkflowTypesResponse = z.infer<typeof WorkflowTypesResponse>;
export const VersionPathParams = z.object({ name: TaskName, v: VersionRef }).strict();
export const DiffPathParams = z.object({ name: TaskName, a: VersionRef, b: VersionRef }).strict();

/** How one task differs between two versions. */
export const TaskDiff = z.object({
  task: TaskName,
  change: z.enum(['added', 'removed', 'changed', 'unchanged']),
  /** The task's code (normalized module hash) differs. */
  code: z.boolean(),
  inputs: z.object({ added: z.array(z.string()), removed: z.array(z.string()) }),
  outputs: z.object({ added: z.array(z.string()), removed: z.array(z.string()) }),
  /** Retries, timeout, cache, resources, image or env differ. */
  policy: z.boolean()
});
export type TaskDiff = z.infer<typeof TaskDiff>;

/** GET /api/v1/workflows/:name/versions/:a/diff/:b. */
export const VersionDiffResponse = z.object({
  workflow: TaskName,
  from: WorkflowVersion,
  to: WorkflowVersion,
  tasks: z.array(TaskDiff),
  params: z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()) })
});
export type VersionDiffResponse = z.infer<typeof VersionDiffResponse>;

/** POST /api/v1/workflows/:name/versions/:v/runs. */
export const VersionRunRequest = z
  .object({
    params: ParamValues.optional(),
    paramAssignments: z.array(z.string().max(65536)).max(1000).optional(),
    noCache: z.boolean().optional(),
    /** Notified (POST, JSON {@link RunNotification}) when the run succeeds or fails. */
    webhookUrl: WebhookUrl.optional()
  })
  .strict();
export type VersionRunRequest = z.infer<typeof VersionRunRequest>;

/** An empty request body (POST routes that take none accept `{}` or nothing). */
export const EmptyRequest = z.object({}).strict();

/** Why a webhook is notified about a run: the schedule that started it, or the request that did. */
export const WebhookSource = z.enum(['schedule', 'run']);
export type WebhookSource = z.infer<typeof WebhookSource>;

/**
 * The JSON body POSTed to a webhook when a run succeeds or fails. Small on purpose: ids,
 * statuses and times, never values or logs (those stay behind the token); a receiver that
 * wants more fetches `GET /api/v1/runs/:runId`.
 */
export const RunNotification = z.object({
  event: z.literal('run.finished'),
  runId: RunId,
  workflow: TaskName,
  version: ContentHash,
  status: z.enum(['succeeded', 'failed']),
  /** Set for runs a schedule started. */
  scheduleId: z.string().optional(),
  params: ParamValues,
  tasks: z.array(z.object({ name: TaskName, status: TaskStatus, attempts: z.number().int().min(0), cached: z.boolean() })),
  startedAt: z.string().optional(),
  finishedAt: z.string(),
  error: z.string().optional()
});
export type RunNotification = z.infer<typeof RunNotification>;

/** Where one webhook delivery stands: `pending` while attempts remain, then `delivered` or `failed`. */
export const DeliveryStatus = z.enum(['pending', 'delivered', 'failed']);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

/** One notification of one URL about one run, with what its attempts came to. */
export const WebhookDelivery = z.object({
  id: z.number().int().min(1),
  runId: RunId,
  url: z.string(),
  source: WebhookSource,
  status: DeliveryStatus,
  /** Attempts made so far. */
  attempts: z.number().int().min(0),
  /** HTTP status of the last attempt that got an answer. */
  statusCode: z.number().int().optional(),
  /** Why the last attempt failed (timeout, connection refused, HTTP 500). */
  error: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string()
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** GET /api/v1/runs/:id/notifications. */
export const RunNotificationsResponse = z.object({ runId: RunId, deliveries: z.array(WebhookDelivery) });
export type RunNotificationsResponse = z.infer<typeof RunNotificationsResponse>;
