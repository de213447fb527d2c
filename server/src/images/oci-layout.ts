import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { digestOf } from './layer';
import { MediaTypes } from './oci-types';
import type { BlobSource } from './push';

/**
 * Writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) that `skopeo copy
 * oci:DIR:TAG ...` and `podman load` read. Base layers are fetched from their registry,
 * since a layout must be complete; blobs already in the directory are kept.
 */
export async function writeOciLayout(dir: string, blobs: BlobSource[], manifest: { bytes: Buffer; mediaType: string; digest: string }, tag: string): Promise<void> {
  const blobDir = path.join(dir, 'blobs', 'sha256');
  await fs.mkdir(blobDir, { recursive: true });
  const write = async (digest: string, bytes: Buffer) => {
    if (digestOf(bytes) !== digest) throw new Error(`internal: blob bytes do not match ${digest}`);
    const file = path.join(blobDir, digest.slice('sha256:'.length));
    const tmp = `${file}.tmp-${process.pid}`;
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
  };
  for (const b of blobs) {
    const file = path.join(blobDir, b.digest.slice('sha256:'.length));
    const present = await fs.stat(file).then((s) => s.size === b.size, () => false);
    if (!present) await write(b.digest, await b.bytes());
  }
  await write(manifest.digest, manifest.bytes);
  await fs.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [{ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length, annotations: { 'org.opencontainers.image.ref.name': tag } }]
  };
  await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify(index));
}
