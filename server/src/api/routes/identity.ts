import { apiRoutes, roleAtLeast, type ProjectRole, type TokenInfo } from '@cellgraph/schema';
import { canSee, newToken, principalOf, roleIn, type Principal, type TokenRecord } from '../../auth';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors';
import type { ApiContext } from '../context';
import { jsonRoute, type ApiRoute } from '../route';

/** A token as the API shows it: never the hash, never the secret. */
function tokenInfo(t: TokenRecord): TokenInfo {
  return { id: t.id, name: t.name, user: t.user, scopes: t.scopes, createdAt: t.createdAt, expiresAt: t.expiresAt, revokedAt: t.revokedAt, lastUsedAt: t.lastUsedAt };
}

/** The projects a principal administers (whose audit entries they may read). */
function administered(p: Principal, projects: readonly string[]): string[] {
  return projects.filter((name) => {
    const role = roleIn(p, name);
    return role !== undefined && roleAtLeast(role, 'admin');
  });
}

/** Who am I, personal API tokens, projects and their members, the audit trail, secret references. */
export function identityRoutes(ctx: ApiContext): ApiRoute[] {
  const { identity } = ctx.auth;
  const projectNames = async () => (await identity.listProjects()).map((p) => p.name);
  return [
    jsonRoute(apiRoutes.whoami, async ({ request }) => {
      const p = principalOf(request);
      const projects: { project: string; role: ProjectRole }[] = [];
      for (const name of await projectNames()) {
        const role = roleIn(p, name);
        if (role !== undefined) projects.push({ project: name, role });
      }
      return { name: p.name, kind: p.kind, groups: [...p.groups], scopes: [...p.scopes], superuser: p.superuser, projects };
    }),
    jsonRoute(apiRoutes.createToken, async ({ body, request }) => {
      const p = principalOf(request);
      const user = body.user ?? (p.superuser ? undefined : p.name);
      if (user === undefined) throw new ValidationError("the server's own token issues tokens for a user: name one in `user`", 'body.user');
      if (user !== p.name && !p.superuser) throw new ForbiddenError("only the server's own token may issue a token for someone else");
      if (!p.superuser && p.kind !== 'user') throw new ForbiddenError('services do not get personal tokens');
      // A token never carries more than the credential that created it.
      const beyond = body.scopes.filter((s) => !p.scopes.includes(s));
      if (beyond.length > 0) throw new ForbiddenError(`your credential lacks the scopes ${beyond.join(', ')}, so a token you create cannot have them`);
      const { secret, record } = newToken(user, body.name, body.scopes, body.expiresInDays, new Date());
      await identity.ensureUser(user, 'user');
      await identity.createToken(record);
      return { ...tokenInfo(record), token: secret };
    }),
    jsonRoute(apiRoutes.listTokens, async ({ request }) => {
      const p = principalOf(request);
      return { tokens: (await identity.listTokens(p.superuser ? undefined : p.name)).map(tokenInfo) };
    }),
    jsonRoute(apiRoutes.revokeToken, async ({ params, request }) => {
      const p = principalOf(request);
      const t = await identity.getToken(params.id);
      if (t === undefined || (t.user !== p.name && !p.superuser)) throw new NotFoundError(`no token ${params.id} of yours`, 'path.id');
      const revoked = await identity.revokeToken(params.id, new Date().toISOString());
      return tokenInfo(revoked ?? t);
    }),
    jsonRoute(apiRoutes.createProject, async ({ body, request }) => {
      const p = principalOf(request);
      const record = { name: body.name, description: body.description ?? '', createdAt: new Date().toISOString(), createdBy: p.name };
      if (!(await identity.createProject(record))) throw new ConflictError(`project ${body.name} exists`, 'body.name');
      return { name: record.name, description: record.description, createdAt: record.createdAt, role: 'admin' as const };
    }),
    jsonRoute(apiRoutes.listProjects, async ({ request }) => {
      const p = principalOf(request);
      const projects = (await identity.listProjects()).flatMap((r) => {
        const role = roleIn(p, r.name);
        return role === undefined ? [] : [{ name: r.name, description: r.description, createdAt: r.createdAt, role }];
      });
      return { projects };
    }),
    jsonRoute(apiRoutes.listMembers, async ({ params }) => ({ project: params.project, members: await identity.listMembers(params.project) })),
    jsonRoute(apiRoutes.setMember, async ({ params, body }) => {
      if (params.member.startsWith('group:') && params.member.length === 'group:'.length) throw new ValidationError('a group member is group:<name>', 'path.member');
      if (!params.member.startsWith('group:')) await identity.ensureUser(params.member, 'user');
      const at = new Date().toISOString();
      await identity.setMember(params.project, params.member, body.role, at);
      return { project: params.project, member: params.member, role: body.role, updatedAt: at };
    }),
    jsonRoute(apiRoutes.removeMember, async ({ params }) => {
      if (!(await identity.removeMember(params.project, params.member))) throw new NotFoundError(`${params.member} is no member of ${params.project}`, 'path.member');
      return { project: params.project, member: params.member, removed: true as const };
    }),
    jsonRoute(apiRoutes.listAudit, async ({ query, request }) => {
      const p = principalOf(request);
      if (query.project !== undefined && !canSee(p, query.project)) return { entries: [] };
      const scope = p.superuser ? {} : { projects: administered(p, await projectNames()), orActor: p.name };
      return { entries: await identity.listAudit({ ...scope, project: query.project, actor: query.actor, action: query.action, since: query.since, limit: query.limit }) };
    }),
    jsonRoute(apiRoutes.listSecrets, async ({ params }) => ({
      project: params.project,
      secrets: await identity.listSecrets(params.project)
    })),
    jsonRoute(apiRoutes.putSecret, async ({ params, body, request }) => {
      const record = {
        project: params.project,
        name: params.name,
        keys: [...new Set(body.keys)],
        description: body.description ?? '',
        updatedAt: new Date().toISOString(),
        updatedBy: principalOf(request).name
      };
      await identity.putSecret(record);
      return record;
    }),
    jsonRoute(apiRoutes.deleteSecret, async ({ params }) => {
      if (!(await identity.deleteSecret(params.project, params.name))) throw new NotFoundError(`no secret ${params.name} in ${params.project}`, 'path.name');
      return { project: params.project, name: params.name, deleted: true as const };
    })
  ];
}
