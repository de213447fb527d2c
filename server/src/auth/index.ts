/**
 * Identity and authorization (issue 14); docs/identity.md describes the model. The seam the
 * JupyterHub sign-in builds on: an Authenticator turns a bearer token into an Identity
 * (name, kind, groups, scopes), the chain tries each in turn, and RoleResolver adds project
 * roles from memberships and the configured group mapping.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_PROJECT } from '@cellgraph/schema';
import { UnauthorizedError } from '../errors';
import { apiTokenAuthenticator } from './api-tokens';
import { AuditTrail } from './audit';
import { AuthenticatorChain, bearerToken, type Authenticator } from './authenticator';
import type { GroupRoleMap } from './group-roles';
import { AccessGuard } from './guard';
import type { IdentityStore } from './identity-store';
import { projectOfSchedule, type ProjectLookup } from './projects';
import { projectServicePrincipal } from './principal';
import { setPrincipal } from './request-principal';
import { RoleResolver } from './roles';
import { serverTokenAuthenticator } from './server-token';

export * from './api-tokens';
export * from './audit';
export * from './authenticator';
export * from './group-roles';
export * from './guard';
export * from './identity-store';
export * from './principal';
export * from './projects';
export * from './request-principal';
export * from './roles';
export * from './server-token';

/** Everything the API needs to know who calls and what they may do. */
export interface AuthServices {
  identity: IdentityStore;
  authenticator: Authenticator;
  roles: RoleResolver;
  guard: AccessGuard;
  audit: AuditTrail;
}

/** How a server authenticates and authorizes. */
export interface AuthOptions {
  identity: IdentityStore;
  lookup: ProjectLookup;
  /** The server's own token (admin of everything). */
  serverToken: string;
  /** External groups to project roles (CELLGRAPH_GROUP_ROLES). */
  groupRoles?: GroupRoleMap;
  /** Authenticators tried after the server token and personal API tokens (JupyterHub's). */
  extraAuthenticators?: readonly Authenticator[];
}

/** The chain (server token, personal API tokens, then any extra), roles, guard and audit trail of a server. */
export function createAuth(o: AuthOptions): AuthServices {
  const audit = new AuditTrail(o.identity);
  return {
    identity: o.identity,
    authenticator: new AuthenticatorChain([serverTokenAuthenticator(o.serverToken), apiTokenAuthenticator(o.identity), ...(o.extraAuthenticators ?? [])]),
    roles: new RoleResolver(o.identity, o.groupRoles),
    guard: new AccessGuard(o.identity, o.lookup, audit),
    audit
  };
}

/**
 * Authenticates a request: its bearer token through the chain, then its roles. True when
 * it may go on; otherwise throws UnauthorizedError (no token, an unknown one, an expired or
 * revoked one: the message names a token's id at most, never the token).
 */
export async function authenticateRequest(auth: AuthServices, request: FastifyRequest): Promise<void> {
  const token = bearerToken(request.headers.authorization);
  const identity = token === undefined ? null : await auth.authenticator.authenticate(token);
  if (identity === null) throw new UnauthorizedError('missing or wrong bearer token (Authorization: Bearer <token>: the server token, a personal API token, or a JupyterHub token)');
  setPrincipal(request, await auth.roles.principalFor(identity));
}

/** For the 401 answer. */
export function challenge(reply: FastifyReply): void {
  reply.header('www-authenticate', 'Bearer realm="cellgraph"');
}

/**
 * The audit entry of a schedule's fire: the run was started by the schedule's project
 * service (`project:<name>`), not by whoever created the schedule (their entry is
 * `schedule.create`). Never fails the fire: an audit write that fails is logged.
 */
export async function scheduledRunAudit(auth: AuthServices, state: ProjectLookup['state'], scheduleId: string, runId: string): Promise<void> {
  try {
    const project = (await projectOfSchedule({ identity: auth.identity, state }, scheduleId)) ?? DEFAULT_PROJECT;
    await auth.audit.record(projectServicePrincipal(project), 'run.scheduled', project, runId, { schedule: scheduleId });
  } catch (err) {
    process.stderr.write(`cellgraph server: audit entry for scheduled run ${runId} not written: ${(err as Error).message}\n`);
  }
}
