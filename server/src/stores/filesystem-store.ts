import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ArtifactRef } from '@cellgraph/schema';
import { IntegrityError, NotFoundError } from '../errors';
import { ArtifactStore, assertContentHash, assertSafeKey, sha256 } from './artifact-store';

/**
 * The embedded default store: a directory (by default `.cellgraph/` next to the notebook).
 * Blobs live under `objects/sha256/ab/<hex>`, keyed files under their key.
 */
export class FilesystemStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async putBlob(bytes: Buffer): Promise<ArtifactRef> {
    const hash = sha256(bytes);
    const file = this.blobPath(hash);
    // Content addressing makes an existing file final: same name, same bytes.
    if (!(await exists(file))) await writeAtomic(file, bytes);
    return { hash, size: bytes.length };
  }

  async getBlob(ref: Pick<ArtifactRef, 'hash'>): Promise<Buffer> {
    const file = this.blobPath(ref.hash);
    const bytes = await readOrNotFound(file, `blob ${ref.hash}`);
    if (sha256(bytes) !== ref.hash) throw new IntegrityError(`blob ${ref.hash} is corrupt (content does not match its hash)`);
    return bytes;
  }

  async hasBlob(hash: string): Promise<boolean> {
    return exists(this.blobPath(hash));
  }

  async putFile(key: string, bytes: Buffer | string): Promise<void> {
    await writeAtomic(this.keyPath(key), typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  }

  async getFile(key: string): Promise<Buffer> {
    return readOrNotFound(this.keyPath(key), key);
  }

  async hasFile(key: string): Promise<boolean> {
    return exists(this.keyPath(key));
  }

  localPath(key: string): string {
    return this.keyPath(key);
  }

  private blobPath(hash: string): string {
    const hex = assertContentHash(hash);
    return path.join(this.root, 'objects', 'sha256', hex.slice(0, 2), hex);
  }

  private keyPath(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, ...key.split('/'));
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function readOrNotFound(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${what} not found in the artifact store`);
    throw err;
  }
}

/** Write to a unique temporary sibling, then rename: a crash never leaves a half-written file. */
async function writeAtomic(file: string, bytes: Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
