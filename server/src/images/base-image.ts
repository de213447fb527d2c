import { RegistryClient, RegistryError } from './registry-client';
import { Descriptor, ImageConfig, ImageIndex, ImageManifest, MediaTypes } from './oci-types';
import { ImageReference, formatImageReference } from './reference';

/** A base image as the builder needs it: its manifest and config, never its layers' bytes. */
export interface BaseImage {
  ref: ImageReference;
  /** Digest of the platform manifest (what the build depends on). */
  digest: string;
  manifest: ImageManifest;
  /** Whether the base uses Docker's media types (the result then does too, as crane does). */
  docker: boolean;
  config: ImageConfig;
}

const PLATFORM = { os: 'linux', architecture: 'amd64' };

/**
 * Resolves a base image: manifest list -> the linux/amd64 manifest -> config. Three small
 * requests; the layers stay in the registry (pushed by mount, or copied registry to
 * registry only when the target lacks them).
 */
export async function resolveBaseImage(client: RegistryClient, ref: ImageReference): Promise<BaseImage> {
  const shown = formatImageReference(ref);
  const top = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? 'latest');
  if (!top) throw new RegistryError(`base image ${shown} does not exist in ${ref.registry}`, 404);
  let found = top;
  const json = JSON.parse(top.bytes.toString('utf8')) as { manifests?: unknown; mediaType?: string };
  if (Array.isArray(json.manifests)) {
    const index = ImageIndex.parse(json);
    const pick = index.manifests.find((m: Descriptor) => m.platform?.os === PLATFORM.os && m.platform.architecture === PLATFORM.architecture);
    if (!pick) throw new RegistryError(`base image ${shown} has no ${PLATFORM.os}/${PLATFORM.architecture} variant`, 404);
    const platform = await client.getManifest(ref.repository, pick.digest);
    if (!platform) throw new RegistryError(`base image ${shown}: manifest ${pick.digest} is listed but missing`, 404);
    found = platform;
  }
  const manifest = ImageManifest.parse(JSON.parse(found.bytes.toString('utf8')));
  const config = ImageConfig.parse(JSON.parse((await client.getBlob(ref.repository, manifest.config.digest)).toString('utf8')));
  const docker = (manifest.mediaType ?? found.mediaType) === MediaTypes.dockerManifest;
  return { ref, digest: found.digest, manifest, docker, config };
}
