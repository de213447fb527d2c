/** Tokens, the authenticator chain, role resolution and decisions, without a server. */
import { ForbiddenError, UnauthorizedError } from '../../errors';
import { apiTokenAuthenticator, hashToken, newToken, TOKEN_PREFIX } from '../api-tokens';
import { AuthenticatorChain } from '../authenticator';
import { groupRolesFromEnv, rolesFromGroups } from '../group-roles';
import type { IdentityStore, MemberRecord, TokenRecord } from '../identity-store';
import { decide, projectServicePrincipal, serverIdentity, type Principal } from '../principal';
import { RoleResolver } from '../roles';
import { serverTokenAuthenticator } from '../server-token';

/** Only what these tests call; anything else would be a test bug. */
function fakeStore(tokens: TokenRecord[], members: MemberRecord[] = []): IdentityStore {
  const unused = () => {
    throw new Error('not used by this test');
  };
  return new Proxy({} as IdentityStore, {
    get: (_, key) => {
      if (key === 'findTokenByHash') return async (hash: string) => tokens.find((t) => t.hash === hash);
      if (key === 'touchToken') return async () => undefined;
      if (key === 'membershipsOf') return async (names: string[]) => members.filter((m) => names.includes(m.member));
      return unused;
    }
  });
}

const principal = (roles: Record<string, 'viewer' | 'editor' | 'admin'>, scopes: Principal['scopes'] = ['read', 'run', 'promote', 'admin']): Principal => ({
  name: 'alice',
  kind: 'user',
  groups: [],
  scopes,
  superuser: false,
  via: 'api-token',
  projectRoles: new Map(Object.entries(roles))
});

describe('personal API tokens', () => {
  it('are prefixed, high-entropy, stored by SHA-256 with the hash prefix as id', () => {
    const { secret, record } = newToken('alice', 'laptop', ['read'], 30, new Date('2026-01-01T00:00:00Z'));
    expect(secret.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(record.hash).toBe(hashToken(secret));
    expect(record.id).toBe(record.hash.slice(0, 12));
    expect(JSON.stringify(record)).not.toContain(secret);
    expect(record.expiresAt).toBe('2026-01-31T00:00:00.000Z');
  });

  it('authenticate until they expire or are revoked, and the refusal names only the id', async () => {
    const now = new Date('2026-01-10T00:00:00Z');
    const live = newToken('alice', 'a', ['read'], 30, new Date('2026-01-01T00:00:00Z'));
    const expired = newToken('alice', 'b', ['read'], 1, new Date('2026-01-01T00:00:00Z'));
    const revoked = newToken('alice', 'c', ['read'], 30, new Date('2026-01-01T00:00:00Z'));
    revoked.record.revokedAt = '2026-01-05T00:00:00Z';
    const auth = apiTokenAuthenticator(fakeStore([live.record, expired.record, revoked.record]), () => now);
    expect(await auth.authenticate(live.secret)).toMatchObject({ name: 'alice', scopes: ['read'], superuser: false, credential: live.record.id });
    await expect(auth.authenticate(expired.secret)).rejects.toThrow(UnauthorizedError);
    await expect(auth.authenticate(revoked.secret)).rejects.toThrow(new RegExp(`token ${revoked.record.id} was revoked`));
    await expect(auth.authenticate(revoked.secret)).rejects.not.toThrow(revoked.secret);
    expect(await auth.authenticate('cgt_unknown')).toBeNull();
    expect(await auth.authenticate('not-a-cgt-token')).toBeNull();
  });

  it('chain: the server token is admin of everything; the first authenticator that knows a token decides', async () => {
    const t = newToken('bob', 'x', ['read'], 30, new Date());
    const chain = new AuthenticatorChain([serverTokenAuthenticator('server-secret-0123456789'), apiTokenAuthenticator(fakeStore([t.record]))]);
    expect(await chain.authenticate('server-secret-0123456789')).toEqual(serverIdentity());
    expect((await chain.authenticate(t.secret))?.name).toBe('bob');
    expect(await chain.authenticate('nope')).toBeNull();
    const hub = chain.with({ name: 'hub', authenticate: async (s) => (s === 'hub-token' ? { name: 'carol', kind: 'user', groups: ['ds'], scopes: ['read'], superuser: false, via: 'hub' } : null) });
    expect((await hub.authenticate('hub-token'))?.name).toBe('carol');
  });
});

describe('roles', () => {
  it('merge user memberships, group memberships and the configured group mapping; the strongest wins', async () => {
    const members: MemberRecord[] = [
      { project: 'ml', member: 'alice', role: 'viewer', updatedAt: '' },
      { project: 'reports', member: 'group:analysts', role: 'editor', updatedAt: '' }
    ];
    const resolver = new RoleResolver(fakeStore([], members), { 'data-science': { ml: 'admin' } });
    const p = await resolver.principalFor({ name: 'alice', kind: 'user', groups: ['analysts', 'data-science'], scopes: ['read'], superuser: false, via: 'hub' });
    expect(Object.fromEntries(p.projectRoles)).toEqual({ ml: 'admin', reports: 'editor' });
    expect(Object.fromEntries(rolesFromGroups(['analysts'], { analysts: { a: 'viewer' } }))).toEqual({ a: 'viewer' });
  });

  it('reads the group mapping from the environment and names the setting when it is wrong', () => {
    expect(groupRolesFromEnv({})).toEqual({});
    expect(groupRolesFromEnv({ CELLGRAPH_GROUP_ROLES: '{"ds":{"ml":"editor"}}' })).toEqual({ ds: { ml: 'editor' } });
    expect(() => groupRolesFromEnv({ CELLGRAPH_GROUP_ROLES: '{"ds":{"ml":"owner"}}' })).toThrow(/CELLGRAPH_GROUP_ROLES: ds.ml/);
    expect(() => groupRolesFromEnv({ CELLGRAPH_GROUP_ROLES: 'nope' })).toThrow(/CELLGRAPH_GROUP_ROLES: not JSON/);
    expect(() => groupRolesFromEnv({ CELLGRAPH_GROUP_ROLES_FILE: '/no/such/file.json' })).toThrow(/CELLGRAPH_GROUP_ROLES_FILE/);
  });

  it('decide: invisible project = not visible (404), too weak a role or scope = visible (403)', () => {
    expect(decide(principal({ ml: 'viewer' }), 'read', 'ml')).toEqual({ allowed: true });
    expect(decide(principal({ ml: 'viewer' }), 'run', 'ml')).toMatchObject({ allowed: false, visible: true });
    expect(decide(principal({ ml: 'viewer' }), 'read', 'other')).toMatchObject({ allowed: false, visible: false });
    expect(decide(principal({ ml: 'admin' }, ['read']), 'run', 'ml')).toMatchObject({ allowed: false, visible: true, reason: expect.stringMatching(/run scope/) });
    expect(decide(principal({ ml: 'editor' }), 'delete', 'ml')).toMatchObject({ allowed: false, visible: true });
    const service = projectServicePrincipal('ml');
    expect(service.name).toBe('project:ml');
    expect(decide(service, 'run', 'ml')).toEqual({ allowed: true });
    expect(decide(service, 'run', 'other')).toMatchObject({ allowed: false, visible: false });
    expect(new ForbiddenError('x').name).toBe('ForbiddenError');
  });
});
