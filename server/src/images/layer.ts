import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { TarEntry, deterministicTar } from './deterministic-tar';

/** A built image layer: the compressed blob and the digests the manifest and config name it by. */
export interface Layer {
  /** What the layer holds, for history and progress: `dependencies`, `runtime`, `files`, `notebook`. */
  name: string;
  /** sha256 of the gzip bytes (the manifest's layer digest). */
  digest: string;
  /** sha256 of the uncompressed tar (the config's rootfs diff_id). */
  diffId: string;
  size: number;
  bytes: Buffer;
}

/** `sha256:<hex>` of some bytes. */
export function digestOf(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Tars and gzips entries. zlib's gzip header carries no timestamp or file name, so the
 * same entries give the same digest on every machine with the same zlib.
 */
export function buildLayer(name: string, entries: TarEntry[]): Layer {
  const tar = deterministicTar(entries);
  const bytes = gzipSync(tar, { level: 6 });
  return { name, digest: digestOf(bytes), diffId: digestOf(tar), size: bytes.length, bytes };
}
