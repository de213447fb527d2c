import type { Identity } from './principal';

/**
 * Turns a bearer token into an identity. Returns null when the token is not one this
 * authenticator knows (the next in the chain tries); throws UnauthorizedError when it knows
 * the token and refuses it (expired, revoked), so no later authenticator accepts it.
 */
export interface Authenticator {
  /** For logs and the audit trail (`server-token`, `api-token`, `jupyterhub`). */
  readonly name: string;
  authenticate(token: string): Promise<Identity | null>;
}

/** Tries authenticators in order; the first that knows the token decides. */
export class AuthenticatorChain implements Authenticator {
  readonly name = 'chain';
  constructor(private readonly authenticators: readonly Authenticator[]) {}

  /** A chain with one more authenticator at the end (the JupyterHub one is added this way). */
  with(next: Authenticator): AuthenticatorChain {
    return new AuthenticatorChain([...this.authenticators, next]);
  }

  async authenticate(token: string): Promise<Identity | null> {
    for (const a of this.authenticators) {
      const identity = await a.authenticate(token);
      if (identity !== null) return identity;
    }
    return null;
  }
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer ([^\s]+)$/i.exec(authorization ?? '');
  return m ? m[1] : undefined;
}
