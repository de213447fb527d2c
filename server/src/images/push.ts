import type { BuildEvent } from './image-builder';
import type { RegistryClient } from './registry-client';

/** A blob the image needs in the target repository, with a way to get its bytes when it must be sent. */
export interface BlobSource {
  name: string;
  digest: string;
  size: number;
  bytes(): Promise<Buffer>;
  /** A repository of the same registry that has it: try a cross-repository mount first. */
  mountFrom?: string;
}

/** What happened to one blob during a push. */
export interface PushedBlob {
  name: string;
  digest: string;
  size: number;
  status: 'exists' | 'mounted' | 'uploaded';
}

/** Runs `fn` over items, at most `limit` at once. */
async function parallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Pushes an image: each blob is checked with HEAD, mounted from another repository when
 * possible, uploaded otherwise (in parallel); the manifest goes last, so a tag never
 * points at an image with missing blobs.
 */
export async function pushImage(
  client: RegistryClient,
  repository: string,
  blobs: BlobSource[],
  manifest: { bytes: Buffer; mediaType: string; digest: string },
  tags: string[],
  onEvent?: (e: BuildEvent) => void,
  concurrency = 3
): Promise<PushedBlob[]> {
  const unique = [...new Map(blobs.map((b) => [b.digest, b])).values()];
  const results = await parallel(unique, concurrency, async (b): Promise<PushedBlob> => {
    const done = (status: PushedBlob['status']): PushedBlob => {
      onEvent?.({ kind: 'blob', name: b.name, digest: b.digest, size: b.size, status });
      return { name: b.name, digest: b.digest, size: b.size, status };
    };
    if (await client.hasBlob(repository, b.digest)) return done('exists');
    if (b.mountFrom && b.mountFrom !== repository && (await client.mountBlob(repository, b.digest, b.mountFrom))) return done('mounted');
    const bytes = await b.bytes();
    onEvent?.({ kind: 'blob', name: b.name, digest: b.digest, size: b.size, status: 'uploading', sent: 0 });
    await client.uploadBlob(repository, b.digest, bytes, (sent) => {
      if (sent < bytes.length) onEvent?.({ kind: 'blob', name: b.name, digest: b.digest, size: b.size, status: 'uploading', sent });
    });
    return done('uploaded');
  });
  for (const tag of tags) {
    await client.putManifest(repository, tag, manifest.bytes, manifest.mediaType);
    onEvent?.({ kind: 'manifest', reference: `${repository}:${tag}` });
  }
  return results;
}
