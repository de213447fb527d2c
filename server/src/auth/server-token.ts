import { createHash, timingSafeEqual } from 'node:crypto';
import type { Authenticator } from './authenticator';
import { serverIdentity, type Identity } from './principal';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The server's own token (CELLGRAPH_TOKEN, or the one printed at start): admin of every
 * project, so a single-user server needs no set-up. Compared in constant time: both sides
 * are hashed first so timing depends neither on the secret's length nor on where they differ.
 */
export function serverTokenAuthenticator(token: string): Authenticator {
  const expected = digest(token);
  return {
    name: 'server-token',
    async authenticate(given: string): Promise<Identity | null> {
      return timingSafeEqual(digest(given), expected) ? serverIdentity() : null;
    }
  };
}
