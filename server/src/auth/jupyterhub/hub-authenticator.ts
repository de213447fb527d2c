import { createHash } from 'node:crypto';
import type { Authenticator } from '../authenticator';
import { ALL_SCOPES, type Identity } from '../principal';
import { HubClient, type HubClientOptions } from './hub-client';

/** The Hub sign-in's settings (see {@link hubSettingsFromEnv}). */
export interface HubAuthSettings extends HubClientOptions {
  /** This service's name at the Hub: a token is taken only if the Hub gave it `access:services!service=<name>`. */
  serviceName: string;
  /** How long a resolved token is trusted before the Hub is asked again (revocation takes effect within it). */
  cacheSeconds: number;
  /** Bounds the cache: the oldest entry goes first. */
  cacheEntries?: number;
}


/**
 * Resolves a bearer token through the JupyterHub that issued it. The Hub says whose token it
 * is (the caller cannot claim a name) and whether it may be used at this service (its scopes);
 * a token the Hub refuses, or one not allowed to reach the service, is no one (null: last in
 * the chain, so a 401). The identity has every scope (what a Hub user may do is decided by
 * the project roles alone) and its Hub groups, which the group mapping turns into roles. Answers
 * are cached by the token's hash (never the token) for `cacheSeconds`; refusals are not cached,
 * so a token created a moment ago works at once. A Hub that cannot be reached is a 503, never
 * a 401: the token may be fine.
 */
export class HubAuthenticator implements Authenticator {
  readonly name = 'jupyterhub';
  private readonly client: HubClient;
  private readonly cache = new Map<string, { identity: Identity; until: number }>();

  constructor(
    private readonly settings: HubAuthSettings,
    private readonly now: () => number = Date.now
  ) {
    this.client = new HubClient(settings);
  }

  async authenticate(token: string): Promise<Identity | null> {
    const hash = createHash('sha256').update(token, 'utf8').digest('hex');
    const hit = this.cache.get(hash);
    if (hit !== undefined && hit.until > this.now()) return hit.identity;
    this.cache.delete(hash);
    const owner = await this.client.tokenOwner(token);
    if (owner === undefined || owner.kind !== 'user' || !mayAccess(owner.scopes, this.settings.serviceName)) return null;
    const groups = await this.client.groupsOf(owner.name);
    // The credential names the token by a hash prefix for the audit trail, never the token.
    const identity: Identity = { name: owner.name, kind: 'user', groups, scopes: ALL_SCOPES, superuser: false, via: 'jupyterhub', credential: `hub:${hash.slice(0, 12)}` };
    if (this.settings.cacheSeconds > 0) {
      if (this.cache.size >= (this.settings.cacheEntries ?? 10_000)) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(hash, { identity, until: this.now() + this.settings.cacheSeconds * 1000 });
    }
    return identity;
  }
}

/** Whether token scopes let it reach service `name` (the check JupyterHub's own HubAuth makes). */
export function mayAccess(scopes: readonly string[], name: string): boolean {
  return scopes.includes('access:services') || scopes.includes(`access:services!service=${name}`);
}
