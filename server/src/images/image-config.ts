import type { BaseImage } from './base-image';
import type { Layer } from './layer';
import { digestOf } from './layer';
import { ImagePaths } from './workflow-layers';
import { Descriptor, ImageConfig, ImageManifest, MediaTypes } from './oci-types';

/** A fixed creation time: the same inputs make the same config, so the same digest. */
const EPOCH = '1970-01-01T00:00:00Z';

/** The process an image starts: a workflow image runs one task attempt, the server's image `cellgraph`. */
export interface ImageProcess {
  entrypoint: string[];
  cmd: string[] | null;
  workingDir: string;
  /** `uid:gid`; unset keeps the base's user. */
  user?: string;
}

/** A workflow image's process: one task attempt, in the notebook's directory. */
export const TASK_PROCESS: ImageProcess = { entrypoint: ['node', ImagePaths.taskEntry], cmd: null, workingDir: ImagePaths.work };

/**
 * The image config: the base's, plus our layers' diff ids and history, and the process
 * `run` (by default one task attempt, `node task-entry.js`, invocation in
 * $CELLGRAPH_INVOCATION, in the notebook's directory, as the local executor runs it).
 */
export function composeConfig(base: BaseImage, layers: Layer[], labels: Record<string, string>, descriptions: string[], run: ImageProcess = TASK_PROCESS): Buffer {
  const env = (base.config.config?.Env ?? []).filter((e) => !e.startsWith('NODE_ENV='));
  if (!env.some((e) => e.startsWith('PATH='))) env.push('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  const config: ImageConfig = {
    ...base.config,
    created: EPOCH,
    config: {
      ...base.config.config,
      Env: [...env, 'NODE_ENV=production'],
      Entrypoint: run.entrypoint,
      Cmd: run.cmd,
      WorkingDir: run.workingDir,
      ...(run.user ? { User: run.user } : {}),
      Labels: { ...(base.config.config?.Labels ?? {}), ...labels }
    },
    rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, ...layers.map((l) => l.diffId)] },
    history: [
      ...(base.config.history ?? []),
      ...layers.map((l, i) => ({ created: EPOCH, created_by: `cellgraph build: ${descriptions[i]}`, comment: l.name }))
    ]
  };
  return Buffer.from(JSON.stringify(config));
}

/** The image manifest over the base's layers and ours, in the base's media-type family. */
export function composeManifest(base: BaseImage, layers: Layer[], config: Buffer, annotations: Record<string, string>): { bytes: Buffer; mediaType: string; digest: string } {
  const layerType = base.docker ? MediaTypes.dockerLayerGzip : MediaTypes.ociLayerGzip;
  const mediaType = base.docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: base.docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig, digest: digestOf(config), size: config.length },
    layers: [...base.manifest.layers, ...layers.map((l): Descriptor => ({ mediaType: layerType, digest: l.digest, size: l.size }))],
    // Docker's v2 manifests have no annotations field.
    ...(base.docker ? {} : { annotations })
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { bytes, mediaType, digest: digestOf(bytes) };
}
