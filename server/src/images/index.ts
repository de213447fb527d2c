/** Daemonless OCI image builds for workflows: layers, registry client, push, OCI layout. */
export { buildImage, buildLayeredImage, DEFAULT_BASE_IMAGE, type ImageBuildTarget, type ImageRecipe, type BuildEvent, type BuildImageOptions, type BuildImageResult } from './image-builder';
export { RegistryClient, RegistryError } from './registry-client';
export { parseImageReference, formatImageReference, type ImageReference } from './reference';
export { ImagePaths } from './workflow-layers';
export { planServerLayers, SERVER_BIN } from './server-layers';
