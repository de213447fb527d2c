import { z } from 'zod';
import {
  CompileRequest,
  CompileResponse,
  CreateRunRequest,
  DiffPathParams,
  EventsHeaders,
  EventsQuery,
  HealthResponse,
  ListRunsQuery,
  ListRunsResponse,
  ListVersionsResponse,
  WorkflowTypesQuery,
  WorkflowTypesResponse,
  ListWorkflowsResponse,
  LogsQuery,
  PromoteRequest,
  PromoteResponse,
  RetryRunRequest,
  RunDetail,
  RunLogsResponse,
  RunNotificationsResponse,
  RunPathParams,
  TaskElementsResponse,
  ElementsQuery,
  TaskOutputsResponse,
  TaskPathParams,
  VersionDiffResponse,
  VersionPathParams,
  VersionRunRequest,
  WorkflowPathParams
} from './api';
import {
  AuditQuery,
  ListAuditResponse,
  ListMembersResponse,
  ListProjectsResponse,
  ListSecretsResponse,
  ListTokensResponse,
  MemberInfo,
  MemberPathParams,
  MemberRemoved,
  MemberSetRequest,
  ProjectCreateRequest,
  ProjectInfo,
  ProjectPathParams,
  SecretDeleted,
  SecretInfo,
  SecretPathParams,
  SecretSetRequest,
  TokenCreateRequest,
  TokenCreated,
  TokenInfo,
  TokenPathParams,
  WhoAmIResponse,
  type RouteAccess
} from './identity';
import { Notebook } from './notebook';
import { RunEvent } from './runs';
import {
  CronPreviewRequest,
  CronPreviewResponse,
  ListSchedulesResponse,
  ScheduleCreate,
  ScheduleDeleted,
  SchedulePathParams,
  ScheduleUpdate,
  ScheduleView
} from './schedules';

/**
 * The HTTP API (`/api/v1`), each route declared once: method, path, the zod schemas of its
 * path parameters, query and body, its success response and the error statuses it answers
 * beyond the ones every route shares (see {@link COMMON_ERRORS}). The server binds its
 * handlers to these declarations, the OpenAPI document is generated from them, and the
 * CLI's and the extension's clients build requests and parse answers with them.
 */

/** Methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Error statuses a route may declare beyond the shared ones. */
export type RouteErrorStatus = 403 | 404 | 409 | 422 | 503;

/** One route of the API; the type parameters are the zod schemas of its parts. */
export interface RouteDef<
  P extends z.ZodTypeAny = z.ZodUndefined,
  Q extends z.ZodTypeAny = z.ZodUndefined,
  B extends z.ZodTypeAny = z.ZodUndefined,
  R extends z.ZodTypeAny = z.ZodTypeAny
> {
  /** Stable name: the OpenAPI operationId and the key in {@link apiRoutes}. */
  readonly name: string;
  readonly method: HttpMethod;
  /** Path with `:name` parameters, e.g. `/api/v1/runs/:id`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: 'server' | 'runs' | 'workflows' | 'schedules' | 'identity';
  /** False only for health: every other route needs the bearer token. */
  readonly auth: boolean;
  /**
   * Who may call it (docs/identity.md): the server checks this before the handler runs, and
   * a route without it is refused to everyone but the server's own token (a unit test fails
   * on such a route). Optional in the type only so a route added on another branch still
   * compiles until it declares one.
   */
  readonly access?: RouteAccess;
  /** The audit trail's action for a successful call (`run.cancel`); routes that change nothing have none. */
  readonly audit?: string;
  readonly params?: P;
  readonly query?: Q;
  /** The JSON request body; a POST without one accepts `{}` or nothing. */
  readonly body?: B;
  /** Request headers the route reads (other headers pass). */
  readonly headers?: z.AnyZodObject;
  /** The success status. */
  readonly status: 200 | 201;
  /** The success body; for `text/event-stream`, the `data` of each event. */
  readonly response: R;
  /** Content type of the success response (default `application/json`). */
  readonly contentType: 'application/json' | 'application/x-ipynb+json' | 'text/event-stream';
  /** Error statuses this route answers beyond {@link COMMON_ERRORS}, with why. */
  readonly errors: Partial<Record<RouteErrorStatus, string>>;
}

/** A route with its schema types erased (what the OpenAPI generator and routers iterate over). */
export type AnyRoute = RouteDef<z.ZodTypeAny, z.ZodTypeAny, z.ZodTypeAny, z.ZodTypeAny>;

type Part<K extends string, S extends z.ZodTypeAny, Optional extends boolean> = S extends z.ZodUndefined
  ? { [k in K]?: undefined }
  : Optional extends true
    ? { [k in K]?: z.input<S> }
    : { [k in K]: z.input<S> };

/** Path parameters, query and body of a route, as a caller gives them. */
export type RouteInput<D> = D extends RouteDef<infer P, infer Q, infer B, z.ZodTypeAny> ? Part<'params', P, false> & Part<'query', Q, true> & Part<'body', B, false> : never;

/** What a route answers with on success (for an event stream: each event). */
export type RouteResponse<D> = D extends RouteDef<z.ZodTypeAny, z.ZodTypeAny, z.ZodTypeAny, infer R> ? z.output<R> : never;

type Declared<P extends z.ZodTypeAny, Q extends z.ZodTypeAny, B extends z.ZodTypeAny, R extends z.ZodTypeAny> = Omit<RouteDef<P, Q, B, R>, 'auth' | 'status' | 'contentType' | 'errors' | 'name'> &
  Partial<Pick<RouteDef<P, Q, B, R>, 'auth' | 'status' | 'contentType' | 'errors'>>;

function route<P extends z.ZodTypeAny = z.ZodUndefined, Q extends z.ZodTypeAny = z.ZodUndefined, B extends z.ZodTypeAny = z.ZodUndefined, R extends z.ZodTypeAny = z.ZodTypeAny>(
  name: string,
  d: Declared<P, Q, B, R>
): RouteDef<P, Q, B, R> {
  const def: RouteDef<P, Q, B, R> = { name, auth: true, status: 200, contentType: 'application/json', errors: {}, ...d };
  return { ...def, errors: { ...accessErrors(def.access), ...(d.body !== undefined ? refusedKeys : {}), ...def.errors } };
}

/** What every route with a JSON body may answer: keys that would reach an object's prototype are refused (a route's own 422 text covers it too). */
const refusedKeys = { 422: 'the body has a key named `__proto__` or `constructor.prototype`' } as const;

/** The statuses authorization adds to a route (its own 404 text, if any, wins). */
function accessErrors(access: RouteAccess | undefined): Partial<Record<RouteErrorStatus, string>> {
  if (access?.kind === 'project') {
    return { 403: `your role in the project, or your token's scopes, do not allow ${access.permission}`, 404: 'no such project, or one you cannot see' };
  }
  if (access?.kind === 'superuser') return { 403: "only the server's own token may do this" };
  return {};
}

const signedIn: RouteAccess = { kind: 'signed-in' };
const inProject = (permission: Extract<RouteAccess, { kind: 'project' }>['permission'], project: Extract<RouteAccess, { kind: 'project' }>['project']): RouteAccess => ({
  kind: 'project',
  permission,
  project
});

const unknownRun = { 404: 'no run with this id' } as const;
const unknownSchedule = { 404: 'no schedule with this id' } as const;
const draining = { 503: 'the server is shutting down: no new runs' } as const;
const compileFailed = {
  422: '`notebookPath` names no file on the server, or the notebook does not compile (`compile-error`: `error.diagnostics` lists why, cell by cell; `compile-limit`: compiling ran past its time or memory limit), or `params` do not fit the parameters it declares, or a task reads a secret or key the project does not declare (outside `default`)'
} as const;
const paramsRefused = { 422: "a parameter value does not fit the kind the workflow declares, or names no parameter, or a task reads a secret or key the workflow's project does not declare (outside `default`)" } as const;

/** Every route of the API, by name. */
export const apiRoutes = {
  health: route('health', {
    access: { kind: 'public' },
    method: 'GET',
    path: '/api/v1/health',
    summary: 'liveness; "draining" once shutdown began',
    tag: 'server',
    auth: false,
    response: HealthResponse
  }),
  openapi: route('openapi', {
    access: signedIn,
    method: 'GET',
    path: '/api/v1/openapi.json',
    summary: 'this document',
    tag: 'server',
    response: z.record(z.unknown())
  }),
  createRun: route('createRun', {
    audit: 'run.create',
    access: inProject('run', 'body'),
    method: 'POST',
    path: '/api/v1/runs',
    summary: 'compile a notebook (a path on the server or its content) and start a run',
    tag: 'runs',
    body: CreateRunRequest,
    status: 201,
    response: RunDetail,
    errors: { ...compileFailed, ...draining }
  }),
  listRuns: route('listRuns', {
    access: signedIn,
    method: 'GET',
    path: '/api/v1/runs',
    summary: 'recent runs, newest first',
    tag: 'runs',
    query: ListRunsQuery,
    response: ListRunsResponse
  }),
  getRun: route('getRun', {
    access: inProject('read', 'run'),
    method: 'GET',
    path: '/api/v1/runs/:id',
    summary: 'a run with per-task state',
    tag: 'runs',
    params: RunPathParams,
    response: RunDetail,
    errors: unknownRun
  }),
  cancelRun: route('cancelRun', {
    audit: 'run.cancel',
    access: inProject('run', 'run'),
    method: 'POST',
    path: '/api/v1/runs/:id/cancel',
    summary: 'cancel a queued or running run',
    tag: 'runs',
    params: RunPathParams,
    response: RunDetail,
    errors: { ...unknownRun, 409: 'the run already ended' }
  }),
  retryRun: route('retryRun', {
    audit: 'run.retry',
    access: inProject('run', 'run'),
    method: 'POST',
    path: '/api/v1/runs/:id/retry',
    summary: 'start a new run from the failed tasks of a failed or cancelled run, reusing what succeeded',
    tag: 'runs',
    params: RunPathParams,
    body: RetryRunRequest,
    status: 201,
    response: RunDetail,
    errors: { ...unknownRun, 409: 'the run has not failed or been cancelled', 422: "a task reads a secret or key the run's project does not declare (outside `default`)", ...draining }
  }),
  runLogs: route('runLogs', {
    access: inProject('read', 'run'),
    method: 'GET',
    path: '/api/v1/runs/:id/logs',
    summary: "every attempt's output per task; attempts still running are marked live",
    tag: 'runs',
    params: RunPathParams,
    query: LogsQuery,
    response: RunLogsResponse,
    errors: { 404: 'no run with this id, or no such task or element in it', 422: '`element` without `task`, or for a task that is not a foreach task' }
  }),
  taskOutputs: route('taskOutputs', {
    access: inProject('read', 'run'),
    method: 'GET',
    path: '/api/v1/runs/:id/tasks/:task/outputs',
    summary: "a task's outputs (encoded values with TypeScript types) and metrics",
    tag: 'runs',
    params: TaskPathParams,
    response: TaskOutputsResponse,
    errors: { 404: 'no run with this id, or no such task in it' }
  }),
  taskElements: route('taskElements', {
    access: inProject('read', 'run'),
    method: 'GET',
    path: '/api/v1/runs/:id/tasks/:task/elements',
    summary: "a foreach task's elements, a page at a time, in element order: state, attempts, duration, cached, error (filter: state)",
    tag: 'runs',
    params: TaskPathParams,
    query: ElementsQuery,
    response: TaskElementsResponse,
    errors: { 404: 'no run with this id, or no such task in it', 422: 'the task is not a foreach task' }
  }),
  executedNotebook: route('executedNotebook', {
    access: inProject('read', 'run'),
    method: 'GET',
    path: '/api/v1/runs/:id/notebook',
    summary: 'the executed notebook (nbformat 4), once the run ended',
    tag: 'runs',
    params: RunPathParams,
    response: Notebook,
    contentType: 'application/x-ipynb+json',
    errors: { 404: 'no run with this id', 409: 'the run has not ended yet' }
  }),
  runEvents: route('runEvents', {
    access: inProject('read', 'run'),
    method: 'GET',
    path: '/api/v1/runs/:id/events',
    summary:
      'run and task events as Server-Sent Events (`id:` = event seq; send Last-Event-ID or `after` to resume); the stream ends after the run ends',
    tag: 'runs',
    params: RunPathParams,
    query: EventsQuery,
    headers: EventsHeaders,
    response: RunEvent,
    contentType: 'text/event-stream',
    errors: unknownRun
  }),
  runNotifications: route('runNotifications', {
    access: inProject('read', 'run'),
    method: 'GET',
    path: '/api/v1/runs/:id/notifications',
    summary: "the run's webhook deliveries: pending, delivered or failed, with attempts and the last status or error",
    tag: 'runs',
    params: RunPathParams,
    response: RunNotificationsResponse,
    errors: unknownRun
  }),
  compile: route('compile', {
    access: inProject('read', 'body'),
    method: 'POST',
    path: '/api/v1/compile',
    summary: 'compile a notebook to its workflow IR and diagnostics (200 either way); nothing is stored or run',
    tag: 'workflows',
    body: CompileRequest,
    response: CompileResponse,
    errors: { 422: '`notebookPath` names no file on the server, or compiling ran past its time or memory limit (`compile-limit`); a notebook that does not compile is a 200 with `ok: false`' }
  }),
  promote: route('promote', {
    audit: 'workflow.promote',
    access: inProject('promote', 'body'),
    method: 'POST',
    path: '/api/v1/workflows/promote',
    summary: 'compile and freeze a notebook as a workflow version (the same content twice is one version); optionally run it',
    tag: 'workflows',
    body: PromoteRequest,
    status: 201,
    response: PromoteResponse,
    errors: { ...compileFailed, 409: 'a workflow of this name belongs to another project (a workflow stays in the project it was first promoted in)', ...draining }
  }),
  listWorkflows: route('listWorkflows', {
    access: signedIn,
    method: 'GET',
    path: '/api/v1/workflows',
    summary: 'promoted workflows with their latest version',
    tag: 'workflows',
    response: ListWorkflowsResponse
  }),
  listVersions: route('listVersions', {
    access: inProject('read', 'workflow'),
    method: 'GET',
    path: '/api/v1/workflows/:name/versions',
    summary: "a workflow's promoted versions, oldest first",
    tag: 'workflows',
    params: WorkflowPathParams,
    response: ListVersionsResponse,
    errors: { 404: 'no workflow with this name was promoted' }
  }),
  diffVersions: route('diffVersions', {
    access: inProject('read', 'workflow'),
    method: 'GET',
    path: '/api/v1/workflows/:name/versions/:a/diff/:b',
    summary: 'what changed from version a to version b, task by task (versions by number or content hash)',
    tag: 'workflows',
    params: DiffPathParams,
    response: VersionDiffResponse,
    errors: { 404: 'no such workflow or version' }
  }),
  runVersion: route('runVersion', {
    audit: 'run.create',
    access: inProject('run', 'workflow'),
    method: 'POST',
    path: '/api/v1/workflows/:name/versions/:v/runs',
    summary: 'run a promoted version exactly as frozen',
    tag: 'workflows',
    params: VersionPathParams,
    body: VersionRunRequest,
    status: 201,
    response: RunDetail,
    errors: { 404: 'no such workflow or version', ...paramsRefused, ...draining }
  }),
  previewCron: route('previewCron', {
    access: signedIn,
    method: 'POST',
    path: '/api/v1/schedules/preview',
    summary: 'what a cron expression in a time zone means: a sentence and its next fire times (nothing is saved)',
    tag: 'schedules',
    body: CronPreviewRequest,
    response: CronPreviewResponse,
    errors: { 422: 'the expression matches the pattern but croner refuses it (a range that runs backwards) or it never fires' }
  }),
  createSchedule: route('createSchedule', {
    audit: 'schedule.create',
    access: inProject('schedule', 'body-workflow'),
    method: 'POST',
    path: '/api/v1/schedules',
    summary: 'schedule a promoted version: 5-field cron in an IANA time zone, parameters, concurrency and missed-run policies, optional webhook',
    tag: 'schedules',
    body: ScheduleCreate,
    status: 201,
    response: ScheduleView,
    errors: {
      404: 'no such workflow or version',
      409: 'a schedule with this id exists',
      422: 'the cron expression matches the pattern but never fires or has a range that runs backwards, or a parameter does not fit the workflow'
    }
  }),
  listSchedules: route('listSchedules', {
    access: signedIn,
    method: 'GET',
    path: '/api/v1/schedules',
    summary: 'every schedule with its next fire times and a description of its cron expression',
    tag: 'schedules',
    response: ListSchedulesResponse
  }),
  getSchedule: route('getSchedule', {
    access: inProject('read', 'schedule'),
    method: 'GET',
    path: '/api/v1/schedules/:id',
    summary: 'one schedule with its next fire times, description and last handled fire',
    tag: 'schedules',
    params: SchedulePathParams,
    response: ScheduleView,
    errors: unknownSchedule
  }),
  updateSchedule: route('updateSchedule', {
    audit: 'schedule.update',
    access: inProject('schedule', 'schedule'),
    method: 'PATCH',
    path: '/api/v1/schedules/:id',
    summary: 'change a schedule (fires count from now; `webhookUrl: null` removes the webhook)',
    tag: 'schedules',
    params: SchedulePathParams,
    body: ScheduleUpdate,
    response: ScheduleView,
    errors: {
      404: 'no such schedule, workflow or version',
      422: 'the cron expression matches the pattern but never fires or has a range that runs backwards, or a parameter does not fit the workflow'
    }
  }),
  pauseSchedule: route('pauseSchedule', {
    audit: 'schedule.pause',
    access: inProject('schedule', 'schedule'),
    method: 'POST',
    path: '/api/v1/schedules/:id/pause',
    summary: 'stop a schedule firing; fires while paused are never replayed',
    tag: 'schedules',
    params: SchedulePathParams,
    response: ScheduleView,
    errors: unknownSchedule
  }),
  resumeSchedule: route('resumeSchedule', {
    audit: 'schedule.resume',
    access: inProject('schedule', 'schedule'),
    method: 'POST',
    path: '/api/v1/schedules/:id/resume',
    summary: 'resume a paused schedule from its next fire after now',
    tag: 'schedules',
    params: SchedulePathParams,
    response: ScheduleView,
    errors: unknownSchedule
  }),
  deleteSchedule: route('deleteSchedule', {
    audit: 'schedule.delete',
    access: inProject('delete', 'schedule'),
    method: 'DELETE',
    path: '/api/v1/schedules/:id',
    summary: 'delete a schedule (runs it started are kept)',
    tag: 'schedules',
    params: SchedulePathParams,
    response: ScheduleDeleted,
    errors: unknownSchedule
  }),
  whoami: route('whoami', {
    access: signedIn,
    method: 'GET',
    path: '/api/v1/whoami',
    summary: 'who the token belongs to: name, groups, scopes and role per project',
    tag: 'identity',
    response: WhoAmIResponse
  }),
  createToken: route('createToken', {
    audit: 'token.create',
    access: signedIn,
    method: 'POST',
    path: '/api/v1/tokens',
    summary: 'create a personal API token (`cgt_...`): the secret is in this answer only; the server keeps its hash',
    tag: 'identity',
    body: TokenCreateRequest,
    status: 201,
    response: TokenCreated,
    errors: {
      403: "`user` names someone else (only the server's own token may), a service asked for a token, or the scopes exceed your credential's",
      422: "the server's own token must name the `user` a token is for"
    }
  }),
  listTokens: route('listTokens', {
    access: signedIn,
    method: 'GET',
    path: '/api/v1/tokens',
    summary: "your tokens (the server's own token: everyone's), ids and metadata only",
    tag: 'identity',
    response: ListTokensResponse
  }),
  revokeToken: route('revokeToken', {
    audit: 'token.revoke',
    access: signedIn,
    method: 'DELETE',
    path: '/api/v1/tokens/:id',
    summary: 'revoke one of your tokens by id (the hash prefix lists show); it stops working at once',
    tag: 'identity',
    params: TokenPathParams,
    response: TokenInfo,
    errors: { 404: 'no token of yours with this id' }
  }),
  createProject: route('createProject', {
    audit: 'project.create',
    access: { kind: 'superuser' },
    method: 'POST',
    path: '/api/v1/projects',
    summary: 'create a project (then add members)',
    tag: 'identity',
    body: ProjectCreateRequest,
    status: 201,
    response: ProjectInfo,
    errors: { 409: 'a project with this name exists' }
  }),
  listProjects: route('listProjects', {
    access: signedIn,
    method: 'GET',
    path: '/api/v1/projects',
    summary: 'the projects you can see, with your role in each',
    tag: 'identity',
    response: ListProjectsResponse
  }),
  listMembers: route('listMembers', {
    access: inProject('read', 'path'),
    method: 'GET',
    path: '/api/v1/projects/:project/members',
    summary: "a project's members (users, and `group:<name>` for external groups) with their roles",
    tag: 'identity',
    params: ProjectPathParams,
    response: ListMembersResponse
  }),
  setMember: route('setMember', {
    audit: 'member.set',
    access: inProject('manage', 'path'),
    method: 'PUT',
    path: '/api/v1/projects/:project/members/:member',
    summary: 'add a member to a project or change their role (viewer, editor, admin)',
    tag: 'identity',
    params: MemberPathParams,
    body: MemberSetRequest,
    response: MemberInfo
  }),
  removeMember: route('removeMember', {
    audit: 'member.remove',
    access: inProject('manage', 'path'),
    method: 'DELETE',
    path: '/api/v1/projects/:project/members/:member',
    summary: 'remove a member from a project',
    tag: 'identity',
    params: MemberPathParams,
    response: MemberRemoved,
    errors: { 404: 'no such project you can see, or no such member' }
  }),
  listAudit: route('listAudit', {
    access: signedIn,
    method: 'GET',
    path: '/api/v1/audit',
    summary: 'the audit trail, newest first: of the projects you administer, and what you did yourself (filters: project, actor, action, since)',
    tag: 'identity',
    query: AuditQuery,
    response: ListAuditResponse
  }),
  listSecrets: route('listSecrets', {
    access: inProject('read', 'path'),
    method: 'GET',
    path: '/api/v1/projects/:project/secrets',
    summary: "the secret references of a project: names and keys, never values",
    tag: 'identity',
    params: ProjectPathParams,
    response: ListSecretsResponse
  }),
  putSecret: route('putSecret', {
    audit: 'secret.put',
    access: inProject('manage', 'path'),
    method: 'PUT',
    path: '/api/v1/projects/:project/secrets/:name',
    summary: "declare that tasks of the project may read keys of a Kubernetes Secret by this name (the value stays in Kubernetes)",
    tag: 'identity',
    params: SecretPathParams,
    body: SecretSetRequest,
    response: SecretInfo
  }),
  deleteSecret: route('deleteSecret', {
    audit: 'secret.delete',
    access: inProject('manage', 'path'),
    method: 'DELETE',
    path: '/api/v1/projects/:project/secrets/:name',
    summary: 'withdraw a secret reference from a project',
    tag: 'identity',
    params: SecretPathParams,
    response: SecretDeleted,
    errors: { 404: 'no such project you can see, or no such secret in it' }
  }),
  workflowTypes: route('workflowTypes', {
    access: inProject('read', 'workflow'),
    method: 'GET',
    path: '/api/v1/workflows/:name/types',
    summary: "TypeScript declarations of a workflow's task outputs (for the notebook client); its latest run's version unless one is named",
    tag: 'workflows',
    params: WorkflowPathParams,
    query: WorkflowTypesQuery,
    response: WorkflowTypesResponse,
    errors: { 404: 'no run of this workflow, or no such version of it' }
  })
};

/** The name of a route in {@link apiRoutes}. */
export type ApiRouteName = keyof typeof apiRoutes;

const runId = { id: '$response.body#/runId' };
const runs: Partial<Record<ApiRouteName, Record<string, string>>> = {
  getRun: runId,
  cancelRun: runId,
  retryRun: runId,
  runLogs: runId,
  runEvents: runId,
  runNotifications: runId,
  executedNotebook: runId
};
const scheduleId = { id: '$response.body#/id' };

/**
 * Which routes take a parameter from another route's success answer (OpenAPI links): a
 * client, or schemathesis' stateful phase, follows a created run or schedule through them.
 * Values are OpenAPI runtime expressions.
 */
export const apiLinks: Partial<Record<ApiRouteName, Partial<Record<ApiRouteName, Record<string, string>>>>> = {
  createRun: runs,
  retryRun: runs,
  runVersion: runs,
  promote: {
    listVersions: { name: '$response.body#/version/workflow' },
    runVersion: { name: '$response.body#/version/workflow', v: '$response.body#/version/version' },
    diffVersions: { name: '$response.body#/version/workflow', a: '$response.body#/version/version', b: '$response.body#/version/version' }
  },
  createSchedule: { getSchedule: scheduleId, updateSchedule: scheduleId, pauseSchedule: scheduleId, resumeSchedule: scheduleId, deleteSchedule: scheduleId }
};

/** Every route as a list, in declaration order. */
export const apiRouteList: readonly AnyRoute[] = Object.values(apiRoutes);

/**
 * Statuses every route may answer, whatever it does: the request's framing (bad URL
 * encoding, malformed or too deeply nested JSON, unknown fields, wrong types) and the
 * server's own state. Authentication comes first: without a valid token a protected route
 * answers 401 before anything about the request is looked at.
 */
export const COMMON_ERRORS = {
  400: 'bad input: a path parameter, query field or body field does not match this document (`error.field` names it), the URL is not valid percent-encoding, or the body is malformed JSON or nested deeper than 64 levels',
  401: 'missing, unknown, expired or revoked bearer token (checked before anything else)',
  413: 'request body too large',
  414: 'a path parameter longer than the server accepts',
  415: 'a request body that is not application/json',
  500: 'internal error: the body holds only a reference to the server log',
  503: 'the server is shutting down'
} as const;

/** The `:name` parameters of a path, in order. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
}

/**
 * The URL path (and query) of a call: each path parameter percent-encoded, so an id with a
 * slash or `..` stays one segment; query values likewise, undefined ones left out.
 */
export function routeUrl(def: AnyRoute, params?: unknown, query?: unknown): string {
  const values = (params ?? {}) as Record<string, unknown>;
  const path = def.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined || v === null || v === '') throw new Error(`${def.method} ${def.path}: path parameter ${name} is missing`);
    return encodeURIComponent(String(v));
  });
  const pairs = Object.entries((query ?? {}) as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return pairs.length > 0 ? `${path}?${pairs.join('&')}` : path;
}

/** A regular expression matching the route's path with any parameter values (one segment each). */
export function routePathPattern(def: AnyRoute): RegExp {
  const escaped = def.path.split(/:[A-Za-z_][A-Za-z0-9_]*/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[^/]+')}/?$`);
}

/**
 * The methods the API answers on a path (for 405's `Allow` header), from the route whose
 * template matches it most specifically (`/schedules/preview` before `/schedules/:id`, as
 * the router picks); empty when no route has the path.
 */
export function allowedMethods(pathname: string): HttpMethod[] {
  const matching = apiRouteList.filter((r) => routePathPattern(r).test(pathname));
  const params = (r: AnyRoute) => pathParamNames(r.path).length;
  const fewest = Math.min(...matching.map(params));
  return matching.filter((r) => params(r) === fewest).map((r) => r.method);
}
