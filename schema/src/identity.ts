import { z } from 'zod';

/**
 * Identity and authorization: projects, roles, token scopes, the permission each route
 * needs, and the bodies of the identity routes (tokens, projects, members, audit, secrets).
 * The server enforces what is declared here; docs/identity.md explains the model.
 */

/** A project name: lower case, digits and `-`, as Kubernetes names go. */
export const ProjectName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z][a-z0-9-]*$/, 'must be lower case letters, digits and "-", starting with a letter');
export type ProjectName = z.infer<typeof ProjectName>;

/** The project every resource without one belongs to: single-user mode stays zero-config. */
export const DEFAULT_PROJECT = 'default';

/** Roles per project, each including the one before. */
export const ProjectRole = z.enum(['viewer', 'editor', 'admin']);
export type ProjectRole = z.infer<typeof ProjectRole>;

/** What a personal API token may be used for (a role still has to allow it). */
export const TokenScope = z.enum(['read', 'run', 'promote', 'admin']);
export type TokenScope = z.infer<typeof TokenScope>;

/** What a route does to a project, checked against the caller's role and token scopes. */
export const Permission = z.enum(['read', 'run', 'promote', 'schedule', 'delete', 'manage']);
export type Permission = z.infer<typeof Permission>;

/** The least role that grants each permission (viewer reads; editor runs, promotes, schedules; admin the rest). */
export const PERMISSION_ROLE: Readonly<Record<Permission, ProjectRole>> = {
  read: 'viewer',
  run: 'editor',
  promote: 'editor',
  schedule: 'editor',
  delete: 'admin',
  manage: 'admin'
};

/** The token scope each permission needs (a token without it is refused even when the role allows). */
export const PERMISSION_SCOPE: Readonly<Record<Permission, TokenScope>> = {
  read: 'read',
  run: 'run',
  promote: 'promote',
  schedule: 'run',
  delete: 'admin',
  manage: 'admin'
};

const ROLE_RANK: Readonly<Record<ProjectRole, number>> = { viewer: 1, editor: 2, admin: 3 };

/** True when `role` includes `least`. */
export function roleAtLeast(role: ProjectRole, least: ProjectRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[least];
}

/** The stronger of two roles (undefined = none). */
export function strongerRole(a: ProjectRole | undefined, b: ProjectRole | undefined): ProjectRole | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return ROLE_RANK[a] >= ROLE_RANK[b] ? a : b;
}

/**
 * Where a route finds the project it acts on:
 * - `run`, `schedule`: the project of the run or schedule named by `params.id`;
 * - `workflow`: the project of the workflow named by `params.name`;
 * - `body`: `body.project` (default `default`);
 * - `body-workflow`: the project of the workflow named by `body.workflow`;
 * - `path`: `params.project`.
 */
export type ProjectSource = 'run' | 'schedule' | 'workflow' | 'body' | 'body-workflow' | 'path';

/**
 * Who may call a route:
 * - `public`: anyone, no token (health);
 * - `signed-in`: any valid token; the handler shows only what the caller may see (lists) or
 *   touches only the caller's own things (their tokens);
 * - `project`: the caller needs `permission` in the project the route acts on. A project the
 *   caller cannot see answers 404; one they see but whose role lacks the permission, 403;
 * - `superuser`: only the server's own token (admin of every project).
 */
export type RouteAccess =
  | { readonly kind: 'public' }
  | { readonly kind: 'signed-in' }
  | { readonly kind: 'project'; readonly permission: Permission; readonly project: ProjectSource }
  | { readonly kind: 'superuser' };

/** A token's id: its hash prefix, safe to show (the secret itself is never stored). */
export const TokenId = z.string().regex(/^[0-9a-f]{12}$/, 'must be 12 hex digits (the token id `cellgraph token list` shows)');

/** POST /api/v1/tokens. */
export const TokenCreateRequest = z
  .object({
    /** What the token is for (shown in lists). */
    name: z.string().min(1).max(100),
    scopes: z.array(TokenScope).min(1).default(['read', 'run', 'promote']),
    /** Days until it expires (default 90; at most 3650). */
    expiresInDays: z.number().int().min(1).max(3650).default(90),
    /** Issue for another user: only the server's own token (superuser) may. */
    user: z.string().min(1).max(200).optional()
  })
  .strict();
export type TokenCreateRequest = z.input<typeof TokenCreateRequest>;

/** A token as lists show it: never the secret, only its id (a hash prefix). */
export const TokenInfo = z.object({
  id: TokenId,
  name: z.string(),
  user: z.string(),
  scopes: z.array(TokenScope),
  createdAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable()
});
export type TokenInfo = z.infer<typeof TokenInfo>;

/** POST /api/v1/tokens answers the secret once. */
export const TokenCreated = TokenInfo.extend({ token: z.string().regex(/^cgt_/) });
export type TokenCreated = z.infer<typeof TokenCreated>;

export const ListTokensResponse = z.object({ tokens: z.array(TokenInfo) });
export const TokenPathParams = z.object({ id: TokenId }).strict();

/** Who the caller is, as the server sees them. */
export const WhoAmIResponse = z.object({
  name: z.string(),
  kind: z.enum(['user', 'service']),
  groups: z.array(z.string()),
  scopes: z.array(TokenScope),
  /** True for the server's own token: admin of every project. */
  superuser: z.boolean(),
  /** The caller's role per project they can see. */
  projects: z.array(z.object({ project: z.string(), role: ProjectRole }))
});
export type WhoAmIResponse = z.infer<typeof WhoAmIResponse>;

/** POST /api/v1/projects. */
export const ProjectCreateRequest = z.object({ name: ProjectName, description: z.string().max(500).optional() }).strict();
export const ProjectInfo = z.object({ name: z.string(), description: z.string(), createdAt: z.string(), role: ProjectRole });
export const ListProjectsResponse = z.object({ projects: z.array(ProjectInfo) });
export const ProjectPathParams = z.object({ project: ProjectName }).strict();

/** A member: a user (`alice`) or a group (`group:data-science`). */
export const MemberName = z.string().min(1).max(200).regex(/^[^\s]+$/, 'must not contain spaces');
export const MemberPathParams = z.object({ project: ProjectName, member: MemberName }).strict();
export const MemberSetRequest = z.object({ role: ProjectRole }).strict();
export const MemberInfo = z.object({ project: z.string(), member: z.string(), role: ProjectRole, updatedAt: z.string() });
export const ListMembersResponse = z.object({ project: z.string(), members: z.array(MemberInfo) });
export const MemberRemoved = z.object({ project: z.string(), member: z.string(), removed: z.literal(true) });

/** An audit record: who did what to what, when. Never a token, only token ids. */
export const AuditEntry = z.object({
  id: z.number().int(),
  time: z.string(),
  actor: z.string(),
  actorKind: z.enum(['user', 'service']),
  action: z.string(),
  project: z.string().nullable(),
  target: z.string(),
  detail: z.record(z.unknown())
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export const AuditQuery = z
  .object({
    project: ProjectName.optional(),
    actor: z.string().min(1).max(200).optional(),
    action: z.string().min(1).max(100).optional(),
    since: z.string().datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100)
  })
  .strict();
export const ListAuditResponse = z.object({ entries: z.array(AuditEntry) });

/** A secret name: a Kubernetes Secret's name rules (DNS subdomain). */
export const SecretName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes Secret name (lower case, digits, "-" and ".")');
export const SecretPathParams = z.object({ project: ProjectName, name: SecretName }).strict();
/** PUT a secret reference: metadata only; the value lives in Kubernetes (or `$CELLGRAPH_SECRETS_DIR`). */
export const SecretSetRequest = z
  .object({
    /** The keys tasks may read from it. */
    keys: z.array(z.string().min(1).max(253).regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key')).min(1).max(100),
    description: z.string().max(500).optional()
  })
  .strict();
export const SecretInfo = z.object({ project: z.string(), name: z.string(), keys: z.array(z.string()), description: z.string(), updatedAt: z.string(), updatedBy: z.string() });
export const ListSecretsResponse = z.object({ project: z.string(), secrets: z.array(SecretInfo) });
export const SecretDeleted = z.object({ project: z.string(), name: z.string(), deleted: z.literal(true) });
