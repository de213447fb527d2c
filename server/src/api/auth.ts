import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh token for a server started without one: 256 bits, URL-safe. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Checks `Authorization: Bearer <token>` in constant time. Both sides are hashed first so
 * the comparison never depends on the secret's length or on where the strings differ.
 */
export function tokenChecker(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const m = /^Bearer ([^\s]+)$/i.exec(authorization ?? '');
    const given = digest(m ? m[1] : '');
    // Always compare, even without a header, so timing says nothing about what was sent.
    return timingSafeEqual(given, expected) && m !== null;
  };
}
