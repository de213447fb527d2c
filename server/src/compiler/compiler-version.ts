import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IR_VERSION } from '@cellgraph/schema';

let fingerprint: string | undefined;

/**
 * Hash of the compiler's own code, TypeScript's version and the IR version: every cached
 * compile result (whole notebooks, per-task checks) is keyed by it, so a new compiler never
 * reuses an old compiler's answers.
 */
export function compilerFingerprint(): string {
  if (fingerprint) return fingerprint;
  // TypeScript's version from its package.json: loading TypeScript itself takes a while, and
  // a cached compile (see compile-cache.ts) must not pay for it.
  const typescriptVersion = (require('typescript/package.json') as { version: string }).version;
  const h = createHash('sha256').update(`${typescriptVersion}\0${IR_VERSION}\0`);
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (/\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')) h.update(f).update(fs.readFileSync(path.join(__dirname, f)));
  }
  fingerprint = h.digest('hex');
  return fingerprint;
}
