import { z } from 'zod';
import { AuditEntry, DEFAULT_PROJECT, ProjectRole, TokenScope } from '@cellgraph/schema';
import { StateError } from '../errors';
import type { SqlRunner } from '../state/sql-runner';
import type { AuditFilter, IdentityStore, MemberRecord, ProjectRecord, ResourceKind, SecretRecord, TokenRecord } from './identity-store';

const json = <T extends z.ZodTypeAny>(schema: T) => z.string().transform((s, ctx) => {
  try {
    return schema.parse(JSON.parse(s)) as z.output<T>;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not the JSON expected' });
    return z.NEVER;
  }
});

const TokenRow = z.object({
  id: z.string(),
  hash: z.string(),
  name: z.string(),
  user_name: z.string(),
  scopes: json(z.array(TokenScope)),
  created_at: z.string(),
  expires_at: z.string(),
  revoked_at: z.string().nullable(),
  last_used_at: z.string().nullable()
});
const ProjectRow = z.object({ name: z.string(), description: z.string(), created_at: z.string(), created_by: z.string() });
const MemberRow = z.object({ project: z.string(), member: z.string(), role: ProjectRole, updated_at: z.string() });
const AuditRow = z.object({
  id: z.coerce.number(),
  time: z.string(),
  actor: z.string(),
  actor_kind: z.enum(['user', 'service']),
  action: z.string(),
  project: z.string().nullable(),
  target: z.string(),
  detail: json(z.record(z.unknown()))
});
const SecretRow = z.object({ project: z.string(), name: z.string(), keys: json(z.array(z.string())), description: z.string(), updated_at: z.string(), updated_by: z.string() });

function parse<T extends z.ZodTypeAny>(schema: T, row: unknown, table: string): z.output<T> {
  const r = schema.safeParse(row);
  if (!r.success) throw new StateError(`corrupt row in ${table}: ${r.error.issues[0]?.message ?? 'does not parse'}`);
  return r.data as z.output<T>;
}

const token = (row: unknown): TokenRecord => {
  const r = parse(TokenRow, row, 'api_tokens');
  return { id: r.id, hash: r.hash, name: r.name, user: r.user_name, scopes: r.scopes, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at };
};
const project = (row: unknown): ProjectRecord => {
  const r = parse(ProjectRow, row, 'projects');
  return { name: r.name, description: r.description, createdAt: r.created_at, createdBy: r.created_by };
};
const member = (row: unknown): MemberRecord => {
  const r = parse(MemberRow, row, 'project_members');
  return { project: r.project, member: r.member, role: r.role, updatedAt: r.updated_at };
};
const secret = (row: unknown): SecretRecord => {
  const r = parse(SecretRow, row, 'project_secrets');
  return { project: r.project, name: r.name, keys: r.keys, description: r.description, updatedAt: r.updated_at, updatedBy: r.updated_by };
};

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** The identity store over SqlRunner: one set of statements for SQLite and PostgreSQL. */
export class SqlIdentityStore implements IdentityStore {
  constructor(private readonly db: SqlRunner) {}

  /** Creates the `default` project if missing (run once at open; idempotent, replica-safe). */
  async init(): Promise<void> {
    await this.db.all('INSERT INTO projects (name, description, created_at, created_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      DEFAULT_PROJECT,
      'the project of everything not given another one',
      new Date().toISOString(),
      'server'
    ]);
  }

  async ensureUser(name: string, kind: 'user' | 'service'): Promise<void> {
    await this.db.all('INSERT INTO users (name, kind, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [name, kind, new Date().toISOString()]);
  }

  async createToken(t: TokenRecord): Promise<void> {
    await this.db.all(
      'INSERT INTO api_tokens (id, hash, name, user_name, scopes, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [t.id, t.hash, t.name, t.user, JSON.stringify(t.scopes), t.createdAt, t.expiresAt, t.revokedAt, t.lastUsedAt]
    );
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM api_tokens WHERE hash = ?', [hash]);
    return rows.length > 0 ? token(rows[0]) : undefined;
  }

  async listTokens(user?: string): Promise<TokenRecord[]> {
    const rows =
      user === undefined
        ? await this.db.all('SELECT * FROM api_tokens ORDER BY created_at DESC, id')
        : await this.db.all('SELECT * FROM api_tokens WHERE user_name = ? ORDER BY created_at DESC, id', [user]);
    return rows.map(token);
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM api_tokens WHERE id = ?', [id]);
    return rows.length > 0 ? token(rows[0]) : undefined;
  }

  async revokeToken(id: string, at: string): Promise<TokenRecord | undefined> {
    await this.db.all('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id]);
    return this.getToken(id);
  }

  async touchToken(id: string, at: string): Promise<void> {
    await this.db.all('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [at, id]);
  }

  async createProject(p: ProjectRecord): Promise<boolean> {
    const rows = await this.db.all('INSERT INTO projects (name, description, created_at, created_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING name', [
      p.name,
      p.description,
      p.createdAt,
      p.createdBy
    ]);
    return rows.length > 0;
  }

  async listProjects(): Promise<ProjectRecord[]> {
    return (await this.db.all('SELECT * FROM projects ORDER BY name')).map(project);
  }

  async getProject(name: string): Promise<ProjectRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM projects WHERE name = ?', [name]);
    return rows.length > 0 ? project(rows[0]) : undefined;
  }

  async setMember(projectName: string, memberName: string, role: ProjectRole, at: string): Promise<void> {
    await this.db.all(
      'INSERT INTO project_members (project, member, role, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (project, member) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at',
      [projectName, memberName, role, at]
    );
  }

  async removeMember(projectName: string, memberName: string): Promise<boolean> {
    const rows = await this.db.all('DELETE FROM project_members WHERE project = ? AND member = ? RETURNING member', [projectName, memberName]);
    return rows.length > 0;
  }

  async listMembers(projectName: string): Promise<MemberRecord[]> {
    return (await this.db.all('SELECT * FROM project_members WHERE project = ? ORDER BY member', [projectName])).map(member);
  }

  async membershipsOf(members: readonly string[]): Promise<MemberRecord[]> {
    if (members.length === 0) return [];
    return (await this.db.all(`SELECT * FROM project_members WHERE member IN (${placeholders(members.length)})`, members)).map(member);
  }

  async setProjectOf(kind: ResourceKind, id: string, projectName: string): Promise<void> {
    await this.db.all('INSERT INTO resource_projects (kind, id, project) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [kind, id, projectName]);
  }

  async projectOf(kind: ResourceKind, id: string): Promise<string | undefined> {
    const rows = await this.db.all('SELECT project FROM resource_projects WHERE kind = ? AND id = ?', [kind, id]);
    return rows.length > 0 ? String(rows[0].project) : undefined;
  }

  async projectsOf(kind: ResourceKind, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await this.db.all(`SELECT id, project FROM resource_projects WHERE kind = ? AND id IN (${placeholders(chunk.length)})`, [kind, ...chunk]);
      for (const r of rows) out.set(String(r.id), String(r.project));
    }
    return out;
  }

  async appendAudit(e: Omit<AuditEntry, 'id'>): Promise<void> {
    await this.db.all('INSERT INTO audit_log (time, actor, actor_kind, action, project, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      e.time,
      e.actor,
      e.actorKind,
      e.action,
      e.project,
      e.target,
      JSON.stringify(e.detail)
    ]);
  }

  async listAudit(f: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.projects !== undefined) {
      const visible = f.projects.length > 0 ? `project IN (${placeholders(f.projects.length)})` : '1 = 0';
      args.push(...f.projects);
      if (f.orActor !== undefined) {
        where.push(`(${visible} OR actor = ?)`);
        args.push(f.orActor);
      } else where.push(visible);
    }
    for (const [column, value] of [
      ['project', f.project],
      ['actor', f.actor],
      ['action', f.action]
    ] as const) {
      if (value !== undefined) {
        where.push(`${column} = ?`);
        args.push(value);
      }
    }
    if (f.since !== undefined) {
      where.push('time >= ?');
      args.push(new Date(f.since).toISOString());
    }
    const sql = `SELECT * FROM audit_log${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = await this.db.all(sql, [...args, f.limit]);
    return rows.map((row) => {
      const r = parse(AuditRow, row, 'audit_log');
      return { id: r.id, time: r.time, actor: r.actor, actorKind: r.actor_kind, action: r.action, project: r.project, target: r.target, detail: r.detail };
    });
  }

  async putSecret(s: SecretRecord): Promise<void> {
    await this.db.all(
      `INSERT INTO project_secrets (project, name, keys, description, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (project, name) DO UPDATE SET keys = excluded.keys, description = excluded.description, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      [s.project, s.name, JSON.stringify(s.keys), s.description, s.updatedAt, s.updatedBy]
    );
  }

  async listSecrets(projectName: string): Promise<SecretRecord[]> {
    return (await this.db.all('SELECT * FROM project_secrets WHERE project = ? ORDER BY name', [projectName])).map(secret);
  }

  async deleteSecret(projectName: string, name: string): Promise<boolean> {
    return (await this.db.all('DELETE FROM project_secrets WHERE project = ? AND name = ? RETURNING name', [projectName, name])).length > 0;
  }
}
