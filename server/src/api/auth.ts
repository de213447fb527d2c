import { randomBytes } from 'node:crypto';

/** A fresh token for a server started without one: 256 bits, URL-safe. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}
