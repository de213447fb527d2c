/** Daemonless OCI image builds for workflows: layers, registry client, push, OCI layout. */
export { buildImage, DEFAULT_BASE_IMAGE, type BuildEvent, type BuildImageOptions, type BuildImageResult } from './image-builder';
export { RegistryClient, RegistryError } from './registry-client';
export { parseImageReference, formatImageReference, type ImageReference } from './reference';
export { ImagePaths } from './workflow-layers';
