/**
 * The Hub sign-in against a real JupyterHub (dev/src/services/jupyterhub.ts): the Hub says
 * whose a token is, which groups they are in, and refuses what it does not know.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startJupyterHub, type TestJupyterHub } from '@cellgraph/dev/services/jupyterhub';
import { startServerProcess, stopAllServers, tempWorkDir, type ServerProcess } from '@cellgraph/dev/test-support/server-process';
import { UnavailableError } from '../../../errors';
import { freePort } from '@cellgraph/dev/services/registry';
import { HubAuthenticator } from '../hub-authenticator';

let hub: TestJupyterHub;

beforeAll(async () => {
  hub = await startJupyterHub({ users: ['alice', 'bob', 'carol'], groups: { 'ml-editors': ['alice'], 'ml-viewers': ['bob'], analysts: ['bob'] } });
}, 90_000);

afterAll(async () => {
  await stopAllServers();
  await hub?.stop();
});

const authenticator = (cacheSeconds = 0, now?: () => number) =>
  new HubAuthenticator({ apiUrl: hub.apiUrl, serviceToken: hub.service.token, serviceName: hub.service.name, cacheSeconds }, now);

test('a user token resolves to the user, with the groups the Hub has for them', async () => {
  const auth = authenticator();
  const alice = await auth.authenticate((await hub.createToken('alice')).token);
  expect(alice).toMatchObject({ name: 'alice', kind: 'user', groups: ['ml-editors'], superuser: false, via: 'jupyterhub' });
  expect(alice?.credential).toMatch(/^hub:[0-9a-f]{12}$/);
  const bob = await auth.authenticate((await hub.createToken('bob')).token);
  expect([...(bob?.groups ?? [])].sort()).toEqual(['analysts', 'ml-viewers']);
  expect((await auth.authenticate((await hub.createToken('carol')).token))?.groups).toEqual([]);
});

test('a token the Hub does not know, a revoked one and an expired one are no one', async () => {
  const auth = authenticator();
  expect(await auth.authenticate('not-a-hub-token-0123456789abcdef')).toBeNull();
  const { id, token } = await hub.createToken('alice');
  expect((await auth.authenticate(token))?.name).toBe('alice');
  await hub.revokeToken('alice', id);
  expect(await auth.authenticate(token)).toBeNull();
  const short = await hub.createToken('bob', { expiresInSeconds: 1 });
  await new Promise((r) => setTimeout(r, 2500));
  expect(await auth.authenticate(short.token)).toBeNull();
});

test('a token the Hub did not let reach the cellgraph service, and a service token, are refused', async () => {
  const auth = authenticator();
  const narrow = await hub.createToken('alice', { scopes: ['read:users:name!user'] });
  expect(await auth.authenticate(narrow.token)).toBeNull();
  expect(await auth.authenticate(hub.adminToken)).toBeNull();
  expect(await auth.authenticate(hub.service.token)).toBeNull();
});

test('answers are cached briefly by hash: a revoked token stops working when its entry expires', async () => {
  let clock = Date.now();
  const auth = authenticator(10, () => clock);
  const { id, token } = await hub.createToken('carol');
  expect((await auth.authenticate(token))?.name).toBe('carol');
  await hub.revokeToken('carol', id);
  expect((await auth.authenticate(token))?.name).toBe('carol');
  clock += 11_000;
  expect(await auth.authenticate(token)).toBeNull();
});

test('a Hub that cannot be reached is unavailable (503), not a refused token', async () => {
  const auth = new HubAuthenticator({ apiUrl: `http://127.0.0.1:${await freePort()}/hub/api`, serviceToken: 'x'.repeat(16), serviceName: 'cellgraph', cacheSeconds: 0 });
  await expect(auth.authenticate('some-token-0123456789')).rejects.toBeInstanceOf(UnavailableError);
});

describe('a real cellgraph server signing Hub users in', () => {
  let server: ServerProcess;
  const as = (token: string, pathname: string, init: RequestInit & { json?: unknown } = {}) =>
    server.api(pathname, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    const dir = tempWorkDir('cg-hub-server-');
    fs.copyFileSync(path.resolve(__dirname, '..', '..', '..', '..', '..', 'examples', 'hello', 'hello.ipynb'), path.join(dir, 'hello.ipynb'));
    server = await startServerProcess(dir, {
      token: 'server-token-0123456789abcdef',
      env: {
        JUPYTERHUB_API_URL: hub.apiUrl,
        JUPYTERHUB_API_TOKEN: hub.service.token,
        JUPYTERHUB_SERVICE_NAME: hub.service.name,
        CELLGRAPH_GROUP_ROLES: JSON.stringify({ 'ml-editors': { ml: 'editor' }, 'ml-viewers': { ml: 'viewer' } })
      }
    });
    // Projects exist before anyone works in them: the admin (the server's own token) creates `ml`.
    expect((await server.api('/api/v1/projects', { method: 'POST', json: { name: 'ml' } })).status).toBe(201);
    for (const user of ['alice', 'bob', 'carol']) tokens[user] = (await hub.createToken(user)).token;
  }, 60_000);

  test('whoami: the Hub name and groups, and the project roles the groups map to', async () => {
    const me = async (user: string) => (await (await as(tokens[user], '/api/v1/whoami')).json()) as { name: string; groups: string[]; projects: unknown[] };
    expect(await me('alice')).toMatchObject({ name: 'alice', kind: 'user', groups: ['ml-editors'], superuser: false, projects: [{ project: 'ml', role: 'editor' }] });
    expect(await me('bob')).toMatchObject({ name: 'bob', projects: [{ project: 'ml', role: 'viewer' }] });
    expect(await me('carol')).toMatchObject({ name: 'carol', projects: [] });
    expect(server.stderr()).toMatch(/sign-in: JupyterHub users through/);
  });

  test('an editor runs in ml; a viewer sees the run but may not run or cancel (403); a non-member sees nothing (404)', async () => {
    const created = await as(tokens.alice, '/api/v1/runs', { method: 'POST', json: { notebookPath: 'hello.ipynb', project: 'ml' } });
    expect(created.status).toBe(201);
    const { runId: id } = (await created.json()) as { runId: string };
    expect((await as(tokens.bob, `/api/v1/runs/${id}`)).status).toBe(200);
    expect((await as(tokens.bob, '/api/v1/runs', { method: 'POST', json: { notebookPath: 'hello.ipynb', project: 'ml' } })).status).toBe(403);
    expect((await as(tokens.bob, `/api/v1/runs/${id}/cancel`, { method: 'POST' })).status).toBe(403);
    expect((await as(tokens.carol, `/api/v1/runs/${id}`)).status).toBe(404);
    const listed = (await (await as(tokens.carol, '/api/v1/runs')).json()) as { runs: { id: string }[] };
    expect(listed.runs.map((r) => r.id)).not.toContain(id);
    const bobs = (await (await as(tokens.bob, '/api/v1/runs')).json()) as { runs: { id: string }[] };
    expect(bobs.runs.map((r) => r.id)).toContain(id);
  });

  test('a token the Hub refuses is a 401, and the token never shows in the server log', async () => {
    const { id, token } = await hub.createToken('alice');
    await hub.revokeToken('alice', id);
    expect((await as(token, '/api/v1/whoami')).status).toBe(401);
    expect((await as('garbage-token-0123456789', '/api/v1/runs')).status).toBe(401);
    for (const t of [...Object.values(tokens), token, hub.service.token]) expect(server.stderr()).not.toContain(t);
  });
});
