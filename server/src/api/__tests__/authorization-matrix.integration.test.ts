/**
 * The authorization matrix (issue 14), generated from the route table: every route × every
 * role (none, viewer, editor, admin, an admin whose token has only the read scope, and the
 * server's own token) × own or other project × a valid, missing, expired or revoked token,
 * against one real `cellgraph server` process. The expected status comes from the issue's
 * rules, written here independently of the server's tables: no token = 401; a project you
 * cannot see = 404; a role or token scope short of the route's permission = 403; otherwise
 * the route's own answer. Then: lists show only what the caller may see, and no token
 * secret appears in any answer (but its creation), in the audit trail or in the server's log.
 */
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { apiRouteList, routePathPattern, type AnyRoute, type Permission, type ProjectRole, type TokenScope } from '@cellgraph/schema';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ServerProcess, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';
import { hashToken, newToken } from '../../auth/api-tokens';

jest.setTimeout(300_000);

const SERVER_TOKEN = 'matrix-server-token-0123456789abcdef';
const PROJECTS = ['p1', 'p2'] as const;
type Project = (typeof PROJECTS)[number];
/** Everyone but the server token is a member of p1 only (or of nothing): p1 is "own", p2 "other". */
const OWN: Project = 'p1';
const OTHER: Project = 'p2';
const PLACES: readonly Project[] = [OWN, OTHER];

/** The roles of the matrix: a user with this role in p1, and the token scopes they hold. */
const ROLES: { name: string; role?: ProjectRole; scopes: TokenScope[] }[] = [
  { name: 'none', scopes: ['read', 'run', 'promote', 'admin'] },
  { name: 'viewer', role: 'viewer', scopes: ['read', 'run', 'promote', 'admin'] },
  { name: 'editor', role: 'editor', scopes: ['read', 'run', 'promote', 'admin'] },
  { name: 'admin', role: 'admin', scopes: ['read', 'run', 'promote', 'admin'] },
  { name: 'admin-readonly-token', role: 'admin', scopes: ['read'] }
];
type TokenState = 'valid' | 'missing' | 'expired' | 'revoked';
const TOKEN_STATES: TokenState[] = ['valid', 'missing', 'expired', 'revoked'];

/** The role ladder (viewer reads; editor runs, promotes, schedules; admin deletes and manages), and the scope each needs. */
const LEAST_ROLE: Record<Permission, ProjectRole> = { read: 'viewer', run: 'editor', promote: 'editor', schedule: 'editor', delete: 'admin', manage: 'admin' };
const SCOPE: Record<Permission, TokenScope> = { read: 'read', run: 'run', promote: 'promote', schedule: 'run', delete: 'admin', manage: 'admin' };
const RANK: Record<ProjectRole, number> = { viewer: 1, editor: 2, admin: 3 };

const nb = (name: string) => JSON.parse(notebookText([code('const n = 1;', { role: 'parameters' }), code(`const doubled: number = n * 2; // ${name}`, { task: 'a' })])) as Record<string, unknown>;

/** One request of the matrix, and the status the route answers once authorization lets it through. */
interface Call {
  method: string;
  path: string;
  body?: unknown;
  allowed: number;
}

interface Fixture {
  s: ServerProcess;
  runs: Record<Project, string>;
  versions: Record<Project, string>;
  schedules: Record<Project, string>;
  /** Every token secret issued, to look for where none may appear. */
  secrets: string[];
  /** Texts of every answer but token creation. */
  answers: string[];
}

async function admin(f: Fixture, method: string, pathname: string, json?: unknown): Promise<Record<string, unknown>> {
  const res = await f.s.api(pathname, { method, ...(json !== undefined ? { json } : {}) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
  if (pathname !== '/api/v1/tokens' || method !== 'POST') f.answers.push(text);
  return JSON.parse(text) as Record<string, unknown>;
}

/** For each route of the table, a request acting on project `p` (building what a destructive route consumes). */
const CALLS: Record<string, (f: Fixture, p: Project, user: string) => Promise<Call>> = {
  health: async () => ({ method: 'GET', path: '/api/v1/health', allowed: 200 }),
  openapi: async () => ({ method: 'GET', path: '/api/v1/openapi.json', allowed: 200 }),
  createRun: async (_f, p) => ({ method: 'POST', path: '/api/v1/runs', body: { notebook: nb(`wf-${p}`), notebookName: `adhoc-${p}.ipynb`, project: p }, allowed: 201 }),
  listRuns: async () => ({ method: 'GET', path: '/api/v1/runs', allowed: 200 }),
  getRun: async (f, p) => ({ method: 'GET', path: `/api/v1/runs/${f.runs[p]}`, allowed: 200 }),
  cancelRun: async (f, p) => ({ method: 'POST', path: `/api/v1/runs/${f.runs[p]}/cancel`, body: {}, allowed: 409 }), // it ended
  retryRun: async (f, p) => ({ method: 'POST', path: `/api/v1/runs/${f.runs[p]}/retry`, body: {}, allowed: 409 }), // it succeeded
  runLogs: async (f, p) => ({ method: 'GET', path: `/api/v1/runs/${f.runs[p]}/logs`, allowed: 200 }),
  taskOutputs: async (f, p) => ({ method: 'GET', path: `/api/v1/runs/${f.runs[p]}/tasks/a/outputs`, allowed: 200 }),
  taskElements: async (f, p) => ({ method: 'GET', path: `/api/v1/runs/${f.runs[p]}/tasks/a/elements`, allowed: 422 }), // a is not a foreach task
  executedNotebook: async (f, p) => ({ method: 'GET', path: `/api/v1/runs/${f.runs[p]}/notebook`, allowed: 200 }),
  runEvents: async (f, p) => ({ method: 'GET', path: `/api/v1/runs/${f.runs[p]}/events`, allowed: 200 }),
  runNotifications: async (f, p) => ({ method: 'GET', path: `/api/v1/runs/${f.runs[p]}/notifications`, allowed: 200 }),
  compile: async (_f, p) => ({ method: 'POST', path: '/api/v1/compile', body: { notebook: nb(`wf-${p}`), project: p }, allowed: 200 }),
  promote: async (_f, p) => ({ method: 'POST', path: '/api/v1/workflows/promote', body: { notebook: nb(`wf-${p}`), notebookName: `wf-${p}.ipynb`, project: p }, allowed: 201 }),
  listWorkflows: async () => ({ method: 'GET', path: '/api/v1/workflows', allowed: 200 }),
  listVersions: async (_f, p) => ({ method: 'GET', path: `/api/v1/workflows/wf-${p}/versions`, allowed: 200 }),
  diffVersions: async (_f, p) => ({ method: 'GET', path: `/api/v1/workflows/wf-${p}/versions/1/diff/1`, allowed: 200 }),
  workflowTypes: async (_f, p) => ({ method: 'GET', path: `/api/v1/workflows/wf-${p}/types`, allowed: 200 }),
  runVersion: async (_f, p) => ({ method: 'POST', path: `/api/v1/workflows/wf-${p}/versions/1/runs`, body: {}, allowed: 201 }),
  previewCron: async () => ({ method: 'POST', path: '/api/v1/schedules/preview', body: { cron: '0 3 1 1 *' }, allowed: 200 }),
  createSchedule: async (f, p) => ({ method: 'POST', path: '/api/v1/schedules', body: { workflow: `wf-${p}`, version: f.versions[p], cron: '0 3 1 1 *', paused: true }, allowed: 201 }),
  listSchedules: async () => ({ method: 'GET', path: '/api/v1/schedules', allowed: 200 }),
  getSchedule: async (f, p) => ({ method: 'GET', path: `/api/v1/schedules/${f.schedules[p]}`, allowed: 200 }),
  updateSchedule: async (f, p) => ({ method: 'PATCH', path: `/api/v1/schedules/${f.schedules[p]}`, body: { cron: '0 4 1 1 *' }, allowed: 200 }),
  pauseSchedule: async (f, p) => ({ method: 'POST', path: `/api/v1/schedules/${f.schedules[p]}/pause`, body: {}, allowed: 200 }),
  resumeSchedule: async (f, p) => ({ method: 'POST', path: `/api/v1/schedules/${f.schedules[p]}/resume`, body: {}, allowed: 200 }),
  deleteSchedule: async (f, p) => {
    const s = await admin(f, 'POST', '/api/v1/schedules', { workflow: `wf-${p}`, version: f.versions[p], cron: '0 3 1 1 *', paused: true });
    return { method: 'DELETE', path: `/api/v1/schedules/${String(s.id)}`, allowed: 200 };
  },
  whoami: async () => ({ method: 'GET', path: '/api/v1/whoami', allowed: 200 }),
  // The server token issues tokens for a named user; a user for themself.
  createToken: async (_f, _p, user) => ({ method: 'POST', path: '/api/v1/tokens', body: { name: 'made-in-matrix', scopes: ['read'], ...(user === 'server' ? { user: 'someone' } : {}) }, allowed: 201 }),
  listTokens: async () => ({ method: 'GET', path: '/api/v1/tokens', allowed: 200 }),
  revokeToken: async (f, _p, user) => {
    const t = await admin(f, 'POST', '/api/v1/tokens', { name: 'to-revoke', scopes: ['read'], user: user === 'server' ? 'someone' : user });
    f.secrets.push(String(t.token));
    return { method: 'DELETE', path: `/api/v1/tokens/${String(t.id)}`, allowed: 200 };
  },
  createProject: async () => ({ method: 'POST', path: '/api/v1/projects', body: { name: `x${Math.random().toString(36).slice(2, 10)}` }, allowed: 201 }),
  listProjects: async () => ({ method: 'GET', path: '/api/v1/projects', allowed: 200 }),
  listMembers: async (_f, p) => ({ method: 'GET', path: `/api/v1/projects/${p}/members`, allowed: 200 }),
  setMember: async (_f, p) => ({ method: 'PUT', path: `/api/v1/projects/${p}/members/zed`, body: { role: 'viewer' }, allowed: 200 }),
  removeMember: async (f, p) => {
    await admin(f, 'PUT', `/api/v1/projects/${p}/members/zed`, { role: 'viewer' });
    return { method: 'DELETE', path: `/api/v1/projects/${p}/members/zed`, allowed: 200 };
  },
  listAudit: async () => ({ method: 'GET', path: '/api/v1/audit', allowed: 200 }),
  listSecrets: async (_f, p) => ({ method: 'GET', path: `/api/v1/projects/${p}/secrets`, allowed: 200 }),
  putSecret: async (_f, p) => ({ method: 'PUT', path: `/api/v1/projects/${p}/secrets/db-creds`, body: { keys: ['password'] }, allowed: 200 }),
  deleteSecret: async (f, p) => {
    await admin(f, 'PUT', `/api/v1/projects/${p}/secrets/old-creds`, { keys: ['password'] });
    return { method: 'DELETE', path: `/api/v1/projects/${p}/secrets/old-creds`, allowed: 200 };
  }
};

/** What the rules say a call answers. `role` undefined = no role in the project acted on. */
function expectedStatus(r: AnyRoute, call: Call, who: { superuser: boolean; role?: ProjectRole; scopes: TokenScope[] }, token: TokenState): number {
  const access = r.access;
  if (access?.kind === 'public') return call.allowed;
  if (token !== 'valid') return 401;
  if (who.superuser) return call.allowed;
  if (access?.kind === 'signed-in') return call.allowed;
  if (access?.kind !== 'project') return 403; // superuser-only (or undeclared: fails closed)
  if (who.role === undefined) return 404;
  if (RANK[who.role] < RANK[LEAST_ROLE[access.permission]]) return 403;
  if (!who.scopes.includes(SCOPE[access.permission])) return 403;
  return call.allowed;
}

let f: Fixture;
/** Each matrix user's tokens by state. */
const tokens: Record<string, Record<Exclude<TokenState, 'missing'>, string>> = {};

async function finished(runId: string): Promise<void> {
  await waitFor(async () => {
    const r = (await (await f.s.api(`/api/v1/runs/${runId}`)).json()) as { status: string };
    return r.status === 'succeeded' ? true : r.status === 'failed' ? Promise.reject(new Error(`run ${runId} failed`)) : undefined;
  }, 60_000, `run ${runId}`);
}

beforeAll(async () => {
  const dir = tempWorkDir('cg-authz-');
  const s = await startServerProcess(dir, { token: SERVER_TOKEN });
  f = { s, runs: {} as Fixture['runs'], versions: {} as Fixture['versions'], schedules: {} as Fixture['schedules'], secrets: [], answers: [] };
  for (const p of PROJECTS) {
    await admin(f, 'POST', '/api/v1/projects', { name: p });
    const promoted = await admin(f, 'POST', '/api/v1/workflows/promote', { notebook: nb(`wf-${p}`), notebookName: `wf-${p}.ipynb`, project: p });
    f.versions[p] = String((promoted.version as { version: string }).version);
    const run = await admin(f, 'POST', `/api/v1/workflows/wf-${p}/versions/1/runs`, {});
    f.runs[p] = String(run.runId);
    await finished(f.runs[p]);
    const schedule = await admin(f, 'POST', '/api/v1/schedules', { workflow: `wf-${p}`, version: f.versions[p], cron: '0 3 1 1 *', paused: true, id: `s-${p}` });
    f.schedules[p] = String(schedule.id);
  }
  const db = new Database(path.join(dir, '.cellgraph', 'state.db'), { timeout: 10_000 });
  try {
    for (const r of ROLES) {
      const user = `u-${r.name}`;
      if (r.role !== undefined) await admin(f, 'PUT', `/api/v1/projects/${OWN}/members/${user}`, { role: r.role });
      const valid = await admin(f, 'POST', '/api/v1/tokens', { name: 'valid', scopes: r.scopes, user });
      const revoked = await admin(f, 'POST', '/api/v1/tokens', { name: 'revoked', scopes: r.scopes, user });
      await admin(f, 'DELETE', `/api/v1/tokens/${String(revoked.id)}`);
      // The API never issues a token that is already expired: plant one, as a clock past its expiry would see it.
      const expired = newToken(user, 'expired', r.scopes, 1, new Date(Date.now() - 3 * 86_400_000));
      db.prepare('INSERT INTO api_tokens (id, hash, name, user_name, scopes, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)').run(
        expired.record.id,
        hashToken(expired.secret),
        expired.record.name,
        user,
        JSON.stringify(r.scopes),
        expired.record.createdAt,
        expired.record.expiresAt
      );
      tokens[user] = { valid: String(valid.token), revoked: String(revoked.token), expired: expired.secret };
      f.secrets.push(String(valid.token), String(revoked.token), expired.secret);
    }
  } finally {
    db.close();
  }
});

afterAll(async () => {
  await stopAllServers();
});

async function send(call: Call, bearer: string | undefined): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${f.s.url}${call.path}`, { method: call.method, headers, body: call.body !== undefined ? JSON.stringify(call.body) : undefined });
  return { status: res.status, text: await res.text() };
}

it('answers every route × role × own/other project × token state as the rules say: zero mismatches', async () => {
  const missingBuilders = apiRouteList.filter((r) => CALLS[r.name] === undefined).map((r) => r.name);
  expect(missingBuilders).toEqual([]);
  const mismatches: string[] = [];
  let cases = 0;
  const t0 = Date.now();
  const who = [
    ...ROLES.map((r) => ({ label: r.name, user: `u-${r.name}`, superuser: false, role: r.role, scopes: r.scopes })),
    { label: 'server-token', user: 'server', superuser: true, role: 'admin' as ProjectRole, scopes: ['read', 'run', 'promote', 'admin'] as TokenScope[] }
  ];
  for (const r of apiRouteList) {
    for (const w of who) {
      for (const where of PLACES) {
        for (const token of TOKEN_STATES) {
          if (w.superuser && (token === 'expired' || token === 'revoked')) continue; // the server token neither expires nor is revoked
          const call = await CALLS[r.name](f, where, w.user);
          // The builder must call the route it stands for.
          if (call.method !== r.method || !routePathPattern(r).test(call.path.split('?')[0])) mismatches.push(`${r.name}: the matrix calls ${call.method} ${call.path}`);
          const bearer = token === 'missing' ? undefined : w.superuser ? SERVER_TOKEN : tokens[w.user][token];
          const role = w.superuser ? 'admin' : where === OWN ? w.role : undefined;
          const expected = expectedStatus(r, call, { superuser: w.superuser, role, scopes: w.scopes }, token);
          const got = await send(call, bearer);
          cases++;
          if (!(r.name === 'createToken' && got.status === 201)) f.answers.push(got.text);
          if (got.status !== expected) mismatches.push(`${r.name} ${call.method} ${call.path} as ${w.label} in ${where === OWN ? 'own' : 'other'} project with ${token} token: expected ${expected}, got ${got.status} ${got.text.slice(0, 200)}`);
          if (got.status === 401) expect(got.text).toMatch(/"code":"unauthorized"/);
          if (got.status === 404 && expected === 404 && r.access?.kind === 'project') expect(got.text).toMatch(/"code":"not-found"/);
        }
      }
    }
  }
  process.stderr.write(`authorization matrix: ${cases} cases over ${apiRouteList.length} routes in ${Date.now() - t0} ms, ${mismatches.length} mismatches\n`);
  expect(mismatches).toEqual([]);
});

it('lists show only what the caller may see', async () => {
  const list = async (user: string, pathname: string) => {
    const res = await send({ method: 'GET', path: pathname, allowed: 200 }, tokens[user].valid);
    expect(res.status).toBe(200);
    return res.text;
  };
  for (const r of ROLES) {
    const user = `u-${r.name}`;
    const sees = r.role !== undefined;
    for (const [pathname, own, other] of [
      ['/api/v1/runs?limit=1000', f.runs.p1, f.runs.p2],
      ['/api/v1/workflows', '"wf-p1"', '"wf-p2"'],
      ['/api/v1/schedules', '"s-p1"', '"s-p2"'],
      ['/api/v1/projects', '"p1"', '"p2"']
    ] as const) {
      const text = await list(user, pathname);
      expect({ user, pathname, own: text.includes(own) }).toEqual({ user, pathname, own: sees });
      expect({ user, pathname, other: text.includes(other) }).toEqual({ user, pathname, other: false });
    }
  }
  // The server token sees everything.
  const all = await send({ method: 'GET', path: '/api/v1/runs?limit=1000', allowed: 200 }, SERVER_TOKEN);
  expect(all.text).toContain(f.runs.p1);
  expect(all.text).toContain(f.runs.p2);
  // Each item names its project, and a project filter narrows the list.
  const p1 = JSON.parse((await send({ method: 'GET', path: '/api/v1/runs?limit=1000&project=p1', allowed: 200 }, SERVER_TOKEN)).text) as { runs: { id: string; project: string }[] };
  expect(p1.runs.map((r) => r.id)).toContain(f.runs.p1);
  expect(new Set(p1.runs.map((r) => r.project))).toEqual(new Set(['p1']));
  const workflows = JSON.parse((await send({ method: 'GET', path: '/api/v1/workflows', allowed: 200 }, tokens['u-viewer'].valid)).text) as { workflows: { workflow: string; project: string }[] };
  expect(workflows.workflows.map((w) => [w.workflow, w.project])).toEqual([['wf-p1', 'p1']]);
});

it('records who did what in the audit trail, with token ids only; no token secret in any answer, the audit trail or the log', async () => {
  const audit = await send({ method: 'GET', path: '/api/v1/audit?limit=1000', allowed: 200 }, SERVER_TOKEN);
  const entries = (JSON.parse(audit.text) as { entries: { actor: string; action: string; project: string | null; detail: Record<string, unknown> }[] }).entries;
  const actions = new Set(entries.map((e) => e.action));
  for (const a of ['run.create', 'workflow.promote', 'schedule.create', 'schedule.update', 'schedule.pause', 'schedule.resume', 'schedule.delete', 'token.create', 'token.revoke', 'project.create', 'member.set', 'member.remove', 'secret.put', 'secret.delete']) {
    expect({ action: a, recorded: actions.has(a) }).toEqual({ action: a, recorded: true });
  }
  // An editor's run: who, where, and which token (its id, a hash prefix).
  const byEditor = entries.find((e) => e.actor === 'u-editor' && e.action === 'run.create');
  expect(byEditor).toMatchObject({ project: 'p1', detail: { via: 'api-token', token: expect.stringMatching(/^[0-9a-f]{12}$/) } });
  // An admin of p1 sees p1's entries and their own, never p2's.
  const mine = await send({ method: 'GET', path: '/api/v1/audit?limit=1000', allowed: 200 }, tokens['u-admin'].valid);
  const seen = (JSON.parse(mine.text) as { entries: { actor: string; project: string | null }[] }).entries;
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.every((e) => e.project === 'p1' || e.actor === 'u-admin')).toBe(true);
  const everywhere = [...f.answers, audit.text, mine.text, f.s.stderr()].join('\n');
  const leaked = f.secrets.filter((secret) => everywhere.includes(secret) || everywhere.includes(secret.slice(4)));
  expect(leaked).toEqual([]);
});
