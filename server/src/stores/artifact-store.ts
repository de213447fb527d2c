import { createHash } from 'node:crypto';
import type { ArtifactRef } from '@cellgraph/schema';
import { ValidationError } from '../errors';

/**
 * Where values, logs and workflow files live. Two kinds of entries:
 * - blobs, content-addressed by sha256 (task outputs): written once, verified on read;
 * - keyed files (workflow modules, attempt results, logs, executed notebooks) under
 *   validated relative keys such as `runs/<run>/tasks/<task>/attempt-1/result.json`.
 *
 * It implements kernel-lib's `ArtifactIO` (getBlob/putBlob), so the task runner reads and
 * writes through it directly.
 */
export interface ArtifactStore {
  /** Stores bytes under their content hash; a second put of the same bytes writes nothing. */
  putBlob(bytes: Buffer): Promise<ArtifactRef>;
  /** Reads a blob and checks its hash; throws NotFoundError or IntegrityError. */
  getBlob(ref: Pick<ArtifactRef, 'hash'>): Promise<Buffer>;
  hasBlob(hash: string): Promise<boolean>;
  /** Writes a keyed file atomically (readers never see half a file). */
  putFile(key: string, bytes: Buffer | string): Promise<void>;
  /** Reads a keyed file; throws NotFoundError when absent. */
  getFile(key: string): Promise<Buffer>;
  hasFile(key: string): Promise<boolean>;
  /** A local filesystem path for a keyed file when the store has one (the CLI prints it). */
  localPath(key: string): string | undefined;
}

/** `sha256:<hex>` of some bytes: the one hashing rule for every content address. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const KEY_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Refuses keys that could escape the store: absolute paths, `..`, empty or odd segments.
 * Every key is built from validated ids, so a failure here means a bug or a hostile id.
 */
export function assertSafeKey(key: string): void {
  const segments = key.split('/');
  if (key.length === 0 || key.length > 1024 || segments.some((s) => !KEY_SEGMENT.test(s) || s.includes('..'))) {
    throw new ValidationError(`unsafe store key ${JSON.stringify(key)}`, 'key');
  }
}

/** Checks the `sha256:<hex>` form before a hash is used to build a path. */
export function assertContentHash(hash: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(hash);
  if (!m) throw new ValidationError(`not a content hash: ${JSON.stringify(hash)}`, 'hash');
  return m[1];
}
