import type { AuditEntry, ProjectRole, TokenScope } from '@cellgraph/schema';

/** A personal API token as stored: its SHA-256 hash, never the secret. */
export interface TokenRecord {
  /** The hash's first 12 hex digits: what lists, logs and the audit trail show. */
  id: string;
  hash: string;
  name: string;
  user: string;
  scopes: TokenScope[];
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** A project. */
export interface ProjectRecord {
  name: string;
  description: string;
  createdAt: string;
  createdBy: string;
}

/** A member of a project: a user name, or `group:<name>` for everyone in an external group. */
export interface MemberRecord {
  project: string;
  member: string;
  role: ProjectRole;
  updatedAt: string;
}

/** Which kinds of resource belong to a project (runs, promoted workflows, schedules). */
export type ResourceKind = 'run' | 'workflow' | 'schedule';

/** A project's secret reference: metadata only, the value stays in Kubernetes (or the secrets directory). */
export interface SecretRecord {
  project: string;
  name: string;
  keys: string[];
  description: string;
  updatedAt: string;
  updatedBy: string;
}

/** Filters of the audit trail. */
export interface AuditFilter {
  /** Entries of these projects only (or with a null project when `orActor` matches). */
  projects?: readonly string[];
  project?: string;
  actor?: string;
  action?: string;
  since?: string;
  /** Also entries this actor made whatever their project (a user's own token changes). */
  orActor?: string;
  limit: number;
}

/**
 * Users, tokens, projects, members, which project each resource is in, the audit trail and
 * secret references: one store written once over SqlRunner, so SQLite and PostgreSQL run
 * the same statements. Resources with no project recorded are in `default` (so data from
 * before projects existed, and single-user mode, need nothing).
 */
export interface IdentityStore {
  ensureUser(name: string, kind: 'user' | 'service'): Promise<void>;

  createToken(t: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  /** Every token, or one user's; newest first. */
  listTokens(user?: string): Promise<TokenRecord[]>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  /** Marks it revoked (keeps the first revocation time); undefined when no such token. */
  revokeToken(id: string, at: string): Promise<TokenRecord | undefined>;
  touchToken(id: string, at: string): Promise<void>;

  /** False when it exists already. */
  createProject(p: ProjectRecord): Promise<boolean>;
  listProjects(): Promise<ProjectRecord[]>;
  getProject(name: string): Promise<ProjectRecord | undefined>;

  setMember(project: string, member: string, role: ProjectRole, at: string): Promise<void>;
  /** False when it was no member. */
  removeMember(project: string, member: string): Promise<boolean>;
  listMembers(project: string): Promise<MemberRecord[]>;
  /** Memberships of any of these member names (`alice`, `group:ds`). */
  membershipsOf(members: readonly string[]): Promise<MemberRecord[]>;

  /** Records the project of a resource (first write wins: a resource never moves). */
  setProjectOf(kind: ResourceKind, id: string, project: string): Promise<void>;
  /** The recorded project, or undefined (= `default`, or not recorded yet). */
  projectOf(kind: ResourceKind, id: string): Promise<string | undefined>;
  /** Recorded projects of many resources of one kind. */
  projectsOf(kind: ResourceKind, ids: readonly string[]): Promise<Map<string, string>>;

  appendAudit(e: Omit<AuditEntry, 'id'>): Promise<void>;
  listAudit(filter: AuditFilter): Promise<AuditEntry[]>;

  putSecret(s: SecretRecord): Promise<void>;
  listSecrets(project: string): Promise<SecretRecord[]>;
  deleteSecret(project: string, name: string): Promise<boolean>;
}
