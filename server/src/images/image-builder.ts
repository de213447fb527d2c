import { createHash } from 'node:crypto';
import type { WorkflowIR } from '@cellgraph/schema';
import { z } from 'zod';
import type { ArtifactStore } from '../stores';
import { resolveBaseImage } from './base-image';
import { registryCredentials } from './credentials';
import { ImageProcess, composeConfig, composeManifest } from './image-config';
import { Layer, buildLayer, digestOf } from './layer';
import { writeOciLayout } from './oci-layout';
import { BlobSource, PushedBlob, pushImage } from './push';
import { ImageReference, formatImageReference, parseImageReference } from './reference';
import { RegistryClient } from './registry-client';
import { LayerPlan, planWorkflowLayers } from './workflow-layers';

/** The default base: Node 24 LTS on Debian slim, the Node cellgraph runs on (the dependencies layer carries native modules built for it). */
export const DEFAULT_BASE_IMAGE = 'docker.io/library/node:24-bookworm-slim';

/** Bump when the image layout changes: old content tags must not match new builds. */
const LAYOUT_VERSION = 'cellgraph-image-v1';

/** What a build reports while it goes, for progress output. */
export type BuildEvent =
  | { kind: 'base'; reference: string; digest: string }
  | { kind: 'layer'; name: string; digest: string; size: number; cached: boolean; ms: number }
  | { kind: 'unchanged'; reference: string }
  | { kind: 'blob'; name: string; digest: string; size: number; status: PushedBlob['status'] | 'uploading'; sent?: number }
  | { kind: 'manifest'; reference: string };

/** A build request: a compiled workflow and where its image goes. */
export interface BuildImageOptions {
  ir: WorkflowIR;
  notebookPath: string;
  notebookText: string;
  /** Push to this repository (`host/repo[:tag]`); the content tag is always pushed too. */
  push?: string;
  /** Or write an OCI image layout to this directory. */
  ociLayout?: string;
  base?: string;
  /** Plain HTTP to the target and base registries (localhost is always plain). */
  insecure?: boolean;
  /** Where built layers are cached between builds (the project's artifact store). */
  store: ArtifactStore;
  onEvent?: (e: BuildEvent) => void;
  env?: NodeJS.ProcessEnv;
  /** Registry retry tuning, for tests of faulty registries. */
  registry?: { attempts?: number; retryDelayMs?: number; chunkSize?: number };
}

/** The built image. */
export interface BuildImageResult {
  /** `host/repo:tag@sha256:...` (push) or the layout path with the digest. */
  reference: string;
  digest: string;
  /** The content tag: a hash of the base and every layer's inputs. */
  contentTag: string;
  /** True when the registry already had this exact image: nothing was built or sent. */
  unchanged: boolean;
  layers: { name: string; digest: string; size: number }[];
  blobs: PushedBlob[];
  bytesUploaded: number;
}

const LayerIndex = z.object({ digest: z.string(), diffId: z.string(), size: z.number() });

function clientFor(ref: ImageReference, options: ImageBuildTarget): RegistryClient {
  return new RegistryClient({ registry: ref.registry, insecure: options.insecure, credentials: registryCredentials(ref.registry, options.env), ...options.registry });
}

/** A layer from the store's cache by its input key, or built now and cached. */
async function materialize(plan: LayerPlan, store: ArtifactStore, onEvent?: (e: BuildEvent) => void): Promise<Layer> {
  const t0 = performance.now();
  const indexKey = `images/layers/${plan.name}-${plan.key}.json`;
  if (await store.hasFile(indexKey)) {
    try {
      const index = LayerIndex.parse(JSON.parse((await store.getFile(indexKey)).toString('utf8')));
      if (await store.hasBlob(index.digest)) {
        const bytes = await store.getBlob({ hash: index.digest });
        onEvent?.({ kind: 'layer', name: plan.name, digest: index.digest, size: index.size, cached: true, ms: performance.now() - t0 });
        return { name: plan.name, ...index, bytes };
      }
    } catch {
      // A damaged cache entry: build the layer again.
    }
  }
  const layer = buildLayer(plan.name, plan.entries());
  await store.putBlob(layer.bytes);
  await store.putFile(indexKey, JSON.stringify({ digest: layer.digest, diffId: layer.diffId, size: layer.size }));
  onEvent?.({ kind: 'layer', name: plan.name, digest: layer.digest, size: layer.size, cached: false, ms: performance.now() - t0 });
  return layer;
}

/**
 * Builds a workflow's image without a daemon, as ko and Jib do: resolve the base's
 * manifest, add deterministic layers, and push over the distribution API (or write an
 * OCI layout). The content tag hashes the base digest and every layer's inputs, so an
 * unchanged workflow costs one manifest HEAD and uploads nothing.
 */
export async function buildImage(options: BuildImageOptions): Promise<BuildImageResult> {
  const plans = planWorkflowLayers(options.ir, options.notebookPath, options.notebookText);
  const labels = { 'org.opencontainers.image.title': options.ir.name, 'dev.cellgraph.workflow.version': options.ir.version };
  return buildLayeredImage(options, { plans, labels });
}

/** What goes on top of the base: the layers, the image's labels, the process it starts. */
export interface ImageRecipe {
  plans: LayerPlan[];
  labels: Record<string, string>;
  run?: ImageProcess;
}

/** Where an image goes and how, without what is in it: the options every image build shares. */
export type ImageBuildTarget = Omit<BuildImageOptions, 'ir' | 'notebookPath' | 'notebookText'>;

/**
 * The one build: base resolved by manifest only, `recipe`'s layers built or taken from the
 * store's cache, content tag over the base and the layers' inputs, push or OCI layout.
 * Workflow images and the server's own image (deploy/server-image.ts) both come from here.
 */
export async function buildLayeredImage(options: ImageBuildTarget, recipe: ImageRecipe): Promise<BuildImageResult> {
  if (!options.push && !options.ociLayout) throw new Error('internal: buildImage needs push or ociLayout');
  const baseRef = parseImageReference(options.base ?? DEFAULT_BASE_IMAGE, 'base');
  const baseClient = clientFor(baseRef, options);
  const base = await resolveBaseImage(baseClient, baseRef);
  options.onEvent?.({ kind: 'base', reference: formatImageReference(baseRef), digest: base.digest });

  const { plans } = recipe;
  const contentTag = `cg-${createHash('sha256')
    .update([LAYOUT_VERSION, base.digest, ...plans.map((p) => `${p.name}:${p.key}`), ...(recipe.run ? [JSON.stringify(recipe.run), JSON.stringify(recipe.labels)] : [])].join('\n'))
    .digest('hex')
    .slice(0, 40)}`;

  const target = options.push ? parseImageReference(options.push, 'push') : undefined;
  const targetClient = target ? (target.registry === baseRef.registry ? baseClient : clientFor(target, options)) : undefined;
  if (target && targetClient && !target.digest) {
    const existing = await targetClient.headManifest(target.repository, contentTag);
    if (existing) {
      // Same inputs, same image: at most re-point the user's tag, and send nothing else.
      const extraTag = options.push?.includes(':') && target.tag && target.tag !== contentTag ? target.tag : undefined;
      if (extraTag && (await targetClient.headManifest(target.repository, extraTag)) !== existing) {
        const m = await targetClient.getManifest(target.repository, existing);
        if (m) await targetClient.putManifest(target.repository, extraTag, m.bytes, m.mediaType);
      }
      const reference = `${target.registry}/${target.repository}:${extraTag ?? contentTag}@${existing}`;
      options.onEvent?.({ kind: 'unchanged', reference });
      return { reference, digest: existing, contentTag, unchanged: true, layers: [], blobs: [], bytesUploaded: 0 };
    }
  }

  const layers: Layer[] = [];
  for (const plan of plans) layers.push(await materialize(plan, options.store, options.onEvent));
  const labels = { ...recipe.labels, 'dev.cellgraph.base': formatImageReference(baseRef) };
  const config = composeConfig(base, layers, labels, plans.map((p) => p.description), recipe.run);
  const manifest = composeManifest(base, layers, config, { 'org.opencontainers.image.base.name': formatImageReference(baseRef), 'org.opencontainers.image.base.digest': base.digest });
  const layerInfo = layers.map((l) => ({ name: l.name, digest: l.digest, size: l.size }));

  const ours: BlobSource[] = [
    ...layers.map((l) => ({ name: l.name, digest: l.digest, size: l.size, bytes: async () => l.bytes })),
    { name: 'config', digest: digestOf(config), size: config.length, bytes: async () => config }
  ];
  const baseBlobs: BlobSource[] = base.manifest.layers.map((d, i) => ({
    name: `base layer ${i + 1}`,
    digest: d.digest,
    size: d.size,
    bytes: () => baseClient.getBlob(baseRef.repository, d.digest),
    mountFrom: target && target.registry === baseRef.registry ? baseRef.repository : undefined
  }));

  if (options.ociLayout) {
    await writeOciLayout(options.ociLayout, [...baseBlobs, ...ours], manifest, contentTag);
    return { reference: `${options.ociLayout}@${manifest.digest}`, digest: manifest.digest, contentTag, unchanged: false, layers: layerInfo, blobs: [], bytesUploaded: 0 };
  }

  const pushed = await pushImage(targetClient!, target!.repository, [...baseBlobs, ...ours], manifest, [contentTag, ...(target!.tag && options.push?.includes(':') && target!.tag !== contentTag ? [target!.tag] : [])], options.onEvent);
  const reference = `${target!.registry}/${target!.repository}:${contentTag}@${manifest.digest}`;
  return { reference, digest: manifest.digest, contentTag, unchanged: false, layers: layerInfo, blobs: pushed, bytesUploaded: pushed.reduce((n, b) => n + (b.status === 'uploaded' ? b.size : 0), 0) };
}
