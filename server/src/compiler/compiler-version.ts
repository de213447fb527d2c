import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { IR_VERSION } from '@cellgraph/schema';

let fingerprint: string | undefined;

/**
 * Hash of the compiler's own code, TypeScript's version and the IR version: every cached
 * compile result (whole notebooks, per-task checks) is keyed by it, so a new compiler never
 * reuses an old compiler's answers.
 */
export function compilerFingerprint(): string {
  if (fingerprint) return fingerprint;
  const h = createHash('sha256').update(`${ts.version}\0${IR_VERSION}\0`);
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (/\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')) h.update(f).update(fs.readFileSync(path.join(__dirname, f)));
  }
  fingerprint = h.digest('hex');
  return fingerprint;
}
