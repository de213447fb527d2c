import { z } from 'zod';

/** Media types cellgraph reads and writes (OCI, plus Docker's v2 for base images). */
export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip'
} as const;

/** A content descriptor: what a manifest says about a blob. */
export const Descriptor = z.object({
  mediaType: z.string(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  platform: z.object({ architecture: z.string(), os: z.string(), variant: z.string().optional() }).passthrough().optional(),
  annotations: z.record(z.string()).optional()
});
export type Descriptor = z.infer<typeof Descriptor>;

/** An image manifest (OCI or Docker v2 schema 2: the same shape). */
export const ImageManifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
  annotations: z.record(z.string()).optional()
});
export type ImageManifest = z.infer<typeof ImageManifest>;

/** A manifest list / image index: one manifest per platform. */
export const ImageIndex = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(Descriptor)
});
export type ImageIndex = z.infer<typeof ImageIndex>;

/** The parts of an image config cellgraph reads and extends; everything else passes through. */
export const ImageConfig = z
  .object({
    architecture: z.string(),
    os: z.string(),
    created: z.string().optional(),
    config: z
      .object({
        Env: z.array(z.string()).optional(),
        Entrypoint: z.array(z.string()).nullable().optional(),
        Cmd: z.array(z.string()).nullable().optional(),
        WorkingDir: z.string().optional(),
        Labels: z.record(z.string()).nullable().optional(),
        User: z.string().optional()
      })
      .passthrough()
      .optional(),
    rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(z.string()) }),
    history: z
      .array(z.object({ created: z.string().optional(), created_by: z.string().optional(), comment: z.string().optional(), empty_layer: z.boolean().optional() }).passthrough())
      .optional()
  })
  .passthrough();
export type ImageConfig = z.infer<typeof ImageConfig>;
