import { DEFAULT_PROJECT, PERMISSION_ROLE, PERMISSION_SCOPE, roleAtLeast, type Permission, type ProjectRole, type TokenScope } from '@cellgraph/schema';

/**
 * Who a request comes from, as an authenticator establishes it: before project roles are
 * looked up. Authenticators (the server's own token, personal API tokens, JupyterHub) only
 * produce this; roles come from memberships and the group mapping (see RoleResolver).
 */
export interface Identity {
  /** A user name (`alice`), or a service's (`project:ml`, `server`). */
  name: string;
  kind: 'user' | 'service';
  /** External groups (JupyterHub's), mapped to project roles by configuration and by `group:<name>` members. */
  groups: readonly string[];
  /** What the credential may be used for; a role must allow an action too. */
  scopes: readonly TokenScope[];
  /** Admin of every project: only the server's own token (zero-config single-user mode). */
  superuser: boolean;
  /** Which authenticator vouched for it (`server-token`, `api-token`, `jupyterhub`, ...). */
  via: string;
  /** A safe reference to the credential for the audit trail (a token's hash prefix), never the secret. */
  credential?: string;
}

/** Every scope: what the server's own token and Hub sessions carry. */
export const ALL_SCOPES: readonly TokenScope[] = ['read', 'run', 'promote', 'admin'];

/** An identity with its roles: what authorization decides on. */
export interface Principal extends Identity {
  /** The role in each project the principal is a member of (superusers: implicitly admin everywhere). */
  readonly projectRoles: ReadonlyMap<string, ProjectRole>;
}

/** The principal's role in a project; undefined = cannot see it. */
export function roleIn(p: Principal, project: string): ProjectRole | undefined {
  return p.superuser ? 'admin' : p.projectRoles.get(project);
}

/** True when the principal may see the project at all. */
export function canSee(p: Principal, project: string): boolean {
  return roleIn(p, project) !== undefined;
}

/** The outcome of checking a permission: allowed, or why not (404 when the project is not visible, 403 otherwise). */
export type Decision = { allowed: true } | { allowed: false; visible: boolean; reason: string };

/** Whether `p` may do `permission` in `project`: the role must grant it and the token's scopes must include it. */
export function decide(p: Principal, permission: Permission, project: string): Decision {
  const role = roleIn(p, project);
  if (role === undefined) return { allowed: false, visible: false, reason: `no project ${JSON.stringify(project)}` };
  const least = PERMISSION_ROLE[permission];
  if (!roleAtLeast(role, least)) {
    return { allowed: false, visible: true, reason: `${permission} in project ${JSON.stringify(project)} needs the ${least} role; ${p.name} is ${role}` };
  }
  const scope = PERMISSION_SCOPE[permission];
  if (!p.scopes.includes(scope)) return { allowed: false, visible: true, reason: `${permission} needs a token with the ${scope} scope` };
  return { allowed: true };
}

/** The server's own token: admin of every project, every scope (the single-user default). */
export function serverIdentity(): Identity {
  return { name: 'server', kind: 'service', groups: [], scopes: ALL_SCOPES, superuser: true, via: 'server-token' };
}

/** The service identity schedules of a project fire as (not the person who created them). */
export function projectServiceName(project: string): string {
  return `project:${project}`;
}

/** A project's service principal: editor of its own project, nothing else. */
export function projectServicePrincipal(project: string = DEFAULT_PROJECT): Principal {
  return {
    name: projectServiceName(project),
    kind: 'service',
    groups: [],
    scopes: ['read', 'run'],
    superuser: false,
    via: 'scheduler',
    projectRoles: new Map([[project, 'editor']])
  };
}
