import * as fs from 'node:fs';
import * as path from 'node:path';
import { contentHash } from '../../codecs/value-codec';
import type { ArtifactIO, ArtifactRef } from '../../runner/types';

/**
 * The filesystem store's layout (StoreConfig `{ kind: "filesystem", root }`), reduced to
 * what the runner uses: blobs under `objects/sha256/ab/<hex>`, keyed files under their key.
 * The server's FilesystemStore is the real one; kernel-lib must not depend on the server.
 */
export class FsStore implements ArtifactIO {
  constructor(readonly root: string) {}

  blobPath(hash: string): string {
    const hex = hash.replace(/^sha256:/, '');
    return path.join(this.root, 'objects', 'sha256', hex.slice(0, 2), hex);
  }

  keyPath(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  async putBlob(bytes: Buffer): Promise<ArtifactRef> {
    const hash = contentHash(bytes);
    const file = this.blobPath(hash);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (!fs.existsSync(file)) fs.writeFileSync(file, bytes);
    return { hash, size: bytes.length };
  }

  async getBlob(ref: { hash: string }): Promise<Buffer> {
    const bytes = fs.readFileSync(this.blobPath(ref.hash));
    if (contentHash(bytes) !== ref.hash) throw new Error(`blob ${ref.hash} is corrupt`);
    return bytes;
  }

  putFile(key: string, bytes: Buffer | string): void {
    const file = this.keyPath(key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
  }

  getFile(key: string): Buffer {
    return fs.readFileSync(this.keyPath(key));
  }
}
