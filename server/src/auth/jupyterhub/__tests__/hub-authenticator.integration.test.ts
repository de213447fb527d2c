/**
 * The Hub sign-in against a real JupyterHub (dev/src/services/jupyterhub.ts): the Hub says
 * whose a token is, which groups they are in, and refuses what it does not know.
 */
import { startJupyterHub, type TestJupyterHub } from '@cellgraph/dev/services/jupyterhub';
import { UnavailableError } from '../../../errors';
import { freePort } from '@cellgraph/dev/services/registry';
import { HubAuthenticator } from '../hub-authenticator';

let hub: TestJupyterHub;

beforeAll(async () => {
  hub = await startJupyterHub({ users: ['alice', 'bob', 'carol'], groups: { 'ml-editors': ['alice'], 'ml-viewers': ['bob'], analysts: ['bob'] } });
}, 90_000);

afterAll(async () => {
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
