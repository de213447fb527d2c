import { createHash, randomBytes } from 'node:crypto';
import type { TokenScope } from '@cellgraph/schema';
import { UnauthorizedError } from '../errors';
import type { Authenticator } from './authenticator';
import type { IdentityStore, TokenRecord } from './identity-store';
import type { Identity } from './principal';

/** Personal API tokens start with this, so scanners and people recognise one. */
export const TOKEN_PREFIX = 'cgt_';

/** SHA-256 of the token in hex: what is stored. A 256-bit random secret needs no salt or slow hash. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A token's id: its hash's first 12 hex digits (shown in lists, logs and the audit trail). */
export function tokenIdOf(hash: string): string {
  return hash.slice(0, 12);
}

/** A new token: the secret (shown once) and its record (stored). */
export function newToken(user: string, name: string, scopes: readonly TokenScope[], expiresInDays: number, now: Date): { secret: string; record: TokenRecord } {
  const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const hash = hashToken(secret);
  const expires = new Date(now.getTime() + expiresInDays * 86_400_000);
  return {
    secret,
    record: {
      id: tokenIdOf(hash),
      hash,
      name,
      user,
      scopes: [...new Set(scopes)],
      createdAt: now.toISOString(),
      expiresAt: expires.toISOString(),
      revokedAt: null,
      lastUsedAt: null
    }
  };
}

/** How often a token's last use is written (a busy client must not write on every request). */
const TOUCH_EVERY_MS = 60_000;

/**
 * Personal API tokens (`cgt_...`): looked up by hash; an expired or revoked one is refused
 * with a message that names the token's id only.
 */
export function apiTokenAuthenticator(store: IdentityStore, now: () => Date = () => new Date()): Authenticator {
  return {
    name: 'api-token',
    async authenticate(secret: string): Promise<Identity | null> {
      if (!secret.startsWith(TOKEN_PREFIX)) return null;
      const record = await store.findTokenByHash(hashToken(secret));
      if (record === undefined) return null;
      const t = now();
      if (record.revokedAt !== null) throw new UnauthorizedError(`token ${record.id} was revoked`);
      if (Date.parse(record.expiresAt) <= t.getTime()) throw new UnauthorizedError(`token ${record.id} expired at ${record.expiresAt}`);
      if (record.lastUsedAt === null || t.getTime() - Date.parse(record.lastUsedAt) > TOUCH_EVERY_MS) await store.touchToken(record.id, t.toISOString());
      return { name: record.user, kind: 'user', groups: [], scopes: record.scopes, superuser: false, via: 'api-token', credential: record.id };
    }
  };
}
