import type { Command } from 'commander';
import { ProjectRole, TokenScope, apiRoutes } from '@cellgraph/schema';
import { ValidationError } from '../../errors';
import { err, out, table } from '../output';
import { projectOption, requireRemote } from '../remote/remote';

const day = (iso: string | null) => (iso === null ? '-' : iso.replace('T', ' ').slice(0, 16));

function role(value: string): ProjectRole {
  const r = ProjectRole.safeParse(value);
  if (!r.success) throw new ValidationError(`role must be viewer, editor or admin, got ${JSON.stringify(value)}`, 'role');
  return r.data;
}

function scopes(value: string): TokenScope[] {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = list.filter((s) => !TokenScope.safeParse(s).success);
  if (bad.length > 0 || list.length === 0) throw new ValidationError(`--scopes takes read, run, promote, admin separated by commas; got ${JSON.stringify(value)}`, 'scopes');
  return list as TokenScope[];
}

/**
 * `cellgraph --server URL whoami | token | project | member | audit | secret`: identities,
 * personal API tokens, projects and roles, the audit trail and secret references on a
 * server (docs/identity.md). Each prints a table, or `--json` the API's answer.
 */
export function registerIdentity(program: Command): void {
  program
    .command('whoami')
    .description('who the token in CELLGRAPH_TOKEN belongs to, and your role per project (--server)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const me = await requireRemote(cmd).call(apiRoutes.whoami);
      if (opts.json) return out(JSON.stringify(me, null, 2));
      out(`${me.name} (${me.kind}${me.superuser ? ', server token: admin of every project' : ''}) scopes ${me.scopes.join(',')}`);
      if (me.groups.length > 0) out(`groups: ${me.groups.join(', ')}`);
      out(table(['PROJECT', 'ROLE'], me.projects.map((p) => [p.project, p.role])));
    });

  const token = program.command('token').description('personal API tokens (--server)');
  token
    .command('create')
    .description('create a token: its secret is printed once (stdout); the server keeps only its hash')
    .argument('<name>', 'what the token is for, e.g. laptop')
    .option('--scopes <list>', 'read,run,promote,admin (default read,run,promote)')
    .option('--days <n>', 'days until it expires (default 90)')
    .option('--user <name>', "issue it for this user (the server's own token only)")
    .option('--json', 'print JSON (includes the secret)')
    .action(async (name: string, opts: { scopes?: string; days?: string; user?: string; json?: boolean }, cmd: Command) => {
      const days = opts.days === undefined ? undefined : Number(opts.days);
      if (days !== undefined && !(Number.isInteger(days) && days >= 1)) throw new ValidationError(`--days must be a whole number of days >= 1, got ${JSON.stringify(opts.days)}`, 'days');
      const created = await requireRemote(cmd).call(apiRoutes.createToken, {
        body: {
          name,
          ...(opts.scopes !== undefined ? { scopes: scopes(opts.scopes) } : {}),
          ...(days !== undefined ? { expiresInDays: days } : {}),
          ...(opts.user !== undefined ? { user: opts.user } : {})
        }
      });
      if (opts.json) return out(JSON.stringify(created, null, 2));
      err(`token ${created.id} for ${created.user} (${created.scopes.join(',')}), expires ${day(created.expiresAt)}; it is shown this once:`);
      out(created.token);
    });
  token
    .command('list')
    .description("your tokens (the server token: everyone's): ids and metadata, never secrets")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { tokens } = await requireRemote(cmd).call(apiRoutes.listTokens);
      if (opts.json) return out(JSON.stringify(tokens, null, 2));
      out(
        table(
          ['ID', 'NAME', 'USER', 'SCOPES', 'EXPIRES', 'LAST USED', 'STATE'],
          tokens.map((t) => [t.id, t.name, t.user, t.scopes.join(','), day(t.expiresAt), day(t.lastUsedAt), t.revokedAt !== null ? 'revoked' : Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'active'])
        )
      );
    });
  token
    .command('revoke')
    .description('revoke a token by id (it stops working at once)')
    .argument('<id>', 'the token id `token list` shows')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const t = await requireRemote(cmd).call(apiRoutes.revokeToken, { params: { id } });
      out(`token ${t.id} (${t.name}) revoked`);
    });

  const project = program.command('project').description('projects on the server (--server)');
  project
    .command('create')
    .description("create a project (the server's own token)")
    .argument('<name>', 'project name: lower case, digits and -')
    .option('--description <text>', 'what it is for')
    .action(async (name: string, opts: { description?: string }, cmd: Command) => {
      const p = await requireRemote(cmd).call(apiRoutes.createProject, { body: { name, ...(opts.description !== undefined ? { description: opts.description } : {}) } });
      out(`project ${p.name} created`);
    });
  project
    .command('list')
    .description('the projects you can see, with your role')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { projects } = await requireRemote(cmd).call(apiRoutes.listProjects);
      if (opts.json) return out(JSON.stringify(projects, null, 2));
      out(table(['PROJECT', 'ROLE', 'DESCRIPTION'], projects.map((p) => [p.name, p.role, p.description])));
    });

  const member = program.command('member').description("a project's members and roles (--server)");
  member
    .command('add')
    .description('add a member (a user, or group:<name>) or change their role')
    .argument('<project>', 'project')
    .argument('<member>', 'user name, or group:<name> for everyone in an external (JupyterHub) group')
    .argument('<role>', 'viewer | editor | admin')
    .action(async (projectName: string, memberName: string, roleName: string, _opts: unknown, cmd: Command) => {
      const m = await requireRemote(cmd).call(apiRoutes.setMember, { params: { project: projectName, member: memberName }, body: { role: role(roleName) } });
      out(`${m.member} is ${m.role} of ${m.project}`);
    });
  member
    .command('remove')
    .description('remove a member')
    .argument('<project>', 'project')
    .argument('<member>', 'user name or group:<name>')
    .action(async (projectName: string, memberName: string, _opts: unknown, cmd: Command) => {
      await requireRemote(cmd).call(apiRoutes.removeMember, { params: { project: projectName, member: memberName } });
      out(`${memberName} removed from ${projectName}`);
    });
  member
    .command('list')
    .description("a project's members")
    .argument('<project>', 'project')
    .option('--json', 'print JSON')
    .action(async (projectName: string, opts: { json?: boolean }, cmd: Command) => {
      const { members } = await requireRemote(cmd).call(apiRoutes.listMembers, { params: { project: projectName } });
      if (opts.json) return out(JSON.stringify(members, null, 2));
      out(table(['MEMBER', 'ROLE', 'SINCE'], members.map((m) => [m.member, m.role, day(m.updatedAt)])));
    });

  program
    .command('audit')
    .description('the audit trail, newest first: projects you administer, and what you did (--server)')
    .option('--project <name>', 'only this project')
    .option('--actor <name>', 'only this user or service')
    .option('--action <action>', 'only this action, e.g. run.cancel')
    .option('--since <iso>', 'only entries from this time on (ISO 8601)')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; actor?: string; action?: string; since?: string; limit?: string; json?: boolean }, cmd: Command) => {
      const { entries } = await requireRemote(cmd).call(apiRoutes.listAudit, {
        query: { project: opts.project ?? projectOption(cmd), actor: opts.actor, action: opts.action, since: opts.since, limit: opts.limit === undefined ? undefined : Number(opts.limit) }
      });
      if (opts.json) return out(JSON.stringify(entries, null, 2));
      out(table(['TIME', 'ACTOR', 'ACTION', 'PROJECT', 'TARGET'], entries.map((e) => [e.time.replace('T', ' ').slice(0, 19), e.actor, e.action, e.project ?? '-', e.target])));
    });

  const secret = program.command('secret').description("a project's secret references: names and keys, never values (--server)");
  secret
    .command('set')
    .description('let tasks of the project read these keys of a Kubernetes Secret (the value stays in Kubernetes)')
    .argument('<project>', 'project')
    .argument('<name>', 'the Kubernetes Secret name')
    .requiredOption('--key <key>', 'a key tasks may read (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--description <text>', 'what it holds')
    .action(async (projectName: string, name: string, opts: { key: string[]; description?: string }, cmd: Command) => {
      const s = await requireRemote(cmd).call(apiRoutes.putSecret, {
        params: { project: projectName, name },
        body: { keys: opts.key, ...(opts.description !== undefined ? { description: opts.description } : {}) }
      });
      out(`secret ${s.name} of ${s.project}: keys ${s.keys.join(', ')}`);
    });
  secret
    .command('list')
    .description("a project's secret references")
    .argument('<project>', 'project')
    .option('--json', 'print JSON')
    .action(async (projectName: string, opts: { json?: boolean }, cmd: Command) => {
      const { secrets } = await requireRemote(cmd).call(apiRoutes.listSecrets, { params: { project: projectName } });
      if (opts.json) return out(JSON.stringify(secrets, null, 2));
      out(table(['SECRET', 'KEYS', 'UPDATED', 'BY'], secrets.map((s) => [s.name, s.keys.join(','), day(s.updatedAt), s.updatedBy])));
    });
  secret
    .command('delete')
    .description('withdraw a secret reference')
    .argument('<project>', 'project')
    .argument('<name>', 'the Secret name')
    .action(async (projectName: string, name: string, _opts: unknown, cmd: Command) => {
      await requireRemote(cmd).call(apiRoutes.deleteSecret, { params: { project: projectName, name } });
      out(`secret ${name} withdrawn from ${projectName}`);
    });
}
