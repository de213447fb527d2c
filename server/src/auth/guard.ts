import type { FastifyRequest } from 'fastify';
import { DEFAULT_PROJECT, type AnyRoute, type ProjectSource, type RouteAccess } from '@cellgraph/schema';
import { ForbiddenError, NotFoundError } from '../errors';
import type { AuditTrail } from './audit';
import type { IdentityStore } from './identity-store';
import { decide } from './principal';
import { projectOfRun, projectOfSchedule, projectOfWorkflow, type ProjectLookup } from './projects';
import { principalOf } from './request-principal';

/** A request's parts once parsed by its route's schemas. */
export interface GuardInput {
  params: unknown;
  query: unknown;
  body: unknown;
  request: FastifyRequest;
}

/** A route without a declared access is the server's own token's only: forgetting one fails closed. */
const UNDECLARED: RouteAccess = { kind: 'superuser' };

const field = (v: unknown, key: string): string | undefined => {
  const x = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return typeof x === 'string' ? x : undefined;
};

/** What "not found" says for a resource the caller cannot see: what it says for one that does not exist. */
function hidden(source: ProjectSource, input: GuardInput, project: string): NotFoundError {
  const id = field(input.params, 'id');
  if (source === 'run') return new NotFoundError(`run ${JSON.stringify(id)} not found`);
  if (source === 'schedule') return new NotFoundError(`schedule ${JSON.stringify(id)} not found`);
  if (source === 'workflow') return new NotFoundError(`workflow ${JSON.stringify(field(input.params, 'name'))} not found`);
  if (source === 'body-workflow') return new NotFoundError(`workflow ${JSON.stringify(field(input.body, 'workflow'))} not found`, 'body.workflow');
  return new NotFoundError(`no project ${JSON.stringify(project)}`, source === 'body' ? 'body.project' : 'path.project');
}

/**
 * Authorization and the audit trail for every route, from the route table: before the
 * handler, the caller's role in the project the route acts on must grant the route's
 * permission (404 when they cannot see the project, 403 when their role or token scopes fall
 * short); after it succeeds, the project of what it created is recorded and the route's
 * audit action written.
 */
export class AccessGuard {
  private readonly projects = new WeakMap<FastifyRequest, string>();

  constructor(
    private readonly identity: IdentityStore,
    private readonly lookup: ProjectLookup,
    private readonly audit: AuditTrail
  ) {}

  /** The project a request was authorized in (project routes only). */
  projectOf(request: FastifyRequest): string | undefined {
    return this.projects.get(request);
  }

  async authorize(def: AnyRoute, input: GuardInput): Promise<void> {
    const access = def.access ?? UNDECLARED;
    if (access.kind === 'public') return;
    const principal = principalOf(input.request);
    if (access.kind === 'signed-in') return;
    if (access.kind === 'superuser') {
      if (!principal.superuser) throw new ForbiddenError("only the server's own token may do this");
      return;
    }
    const project = await this.resolve(access.project, input);
    // No such resource: the handler answers its own 404, whoever asks.
    if (project === undefined) return;
    const decision = decide(principal, access.permission, project);
    if (!decision.allowed) throw decision.visible ? new ForbiddenError(decision.reason) : hidden(access.project, input, project);
    this.projects.set(input.request, project);
  }

  async after(def: AnyRoute, input: GuardInput, result: unknown): Promise<void> {
    if (def.access?.kind === 'public') return;
    // Project creation has no project to authorize in, but its entry belongs to the new project.
    const project = this.projects.get(input.request) ?? (def.name === 'createProject' ? (field(result, 'name') ?? null) : null);
    if (def.name === 'createSchedule' && project !== null) {
      const id = field(result, 'id');
      if (id !== undefined) await this.identity.setProjectOf('schedule', id, project);
    }
    await this.audit.recordRoute(principalOf(input.request), def, project, input, result);
  }

  private async resolve(source: ProjectSource, input: GuardInput): Promise<string | undefined> {
    switch (source) {
      case 'run':
        return projectOfRun(this.lookup, field(input.params, 'id') ?? '');
      case 'schedule':
        return projectOfSchedule(this.lookup, field(input.params, 'id') ?? '');
      case 'workflow':
        return projectOfWorkflow(this.lookup, field(input.params, 'name') ?? '');
      case 'body-workflow':
        return projectOfWorkflow(this.lookup, field(input.body, 'workflow') ?? '');
      case 'body':
        return this.existing(field(input.body, 'project') ?? DEFAULT_PROJECT, 'body.project');
      case 'path':
        return this.existing(field(input.params, 'project') ?? '', 'path.project');
    }
  }

  /** A project named by the request must exist (for everyone: a superuser too gets the 404). */
  private async existing(project: string, where: string): Promise<string> {
    if ((await this.identity.getProject(project)) === undefined) throw new NotFoundError(`no project ${JSON.stringify(project)}`, where);
    return project;
  }
}
