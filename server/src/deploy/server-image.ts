import { type BuildImageResult, type ImageBuildTarget, ImagePaths, SERVER_BIN, buildLayeredImage, planServerLayers } from '../images';

/** The `node` user of the Node base images: the server's image never runs as root (the Deployment's runAsUser matches). */
export const SERVER_IMAGE_USER = '1000:1000';

/**
 * The server's own image (`cellgraph deploy image`), built by the same daemonless builder as
 * workflow images: the base (Node), the server's dependencies, the built cellgraph packages,
 * and `cellgraph server` as its command. The content tag covers all of it, so pushing an
 * unchanged server uploads nothing.
 */
export function buildServerImage(target: ImageBuildTarget): Promise<BuildImageResult> {
  const version = require('../../package.json').version as string;
  return buildLayeredImage(target, {
    plans: planServerLayers(),
    labels: { 'org.opencontainers.image.title': 'cellgraph-server', 'org.opencontainers.image.version': version },
    run: { entrypoint: ['node', SERVER_BIN], cmd: ['server'], workingDir: ImagePaths.app, user: SERVER_IMAGE_USER }
  });
}
