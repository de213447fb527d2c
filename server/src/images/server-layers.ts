import * as path from 'node:path';
import { packageClosure, packageFiles } from './package-closure';
import { ImagePaths, LayerPlan, RUNTIME_PACKAGES, dependenciesLayerPlan, filesLayerPlan, findLockfile, runtimeDir } from './workflow-layers';

/** Where the server's own image starts `cellgraph` (the package's bin script). */
export const SERVER_BIN = `${ImagePaths.nodeModules}/@cellgraph/server/bin/cellgraph`;

/**
 * The two layers of the server's own image (`cellgraph deploy image`): every package the
 * server depends on as installed here (keyed by the lockfile, as a workflow's dependencies
 * are), and the built cellgraph packages: schema, kernel-lib and the whole server with its
 * `bin/` (a workflow image carries only the modules the task entry loads), and the lockfile
 * at /app, so the server can build workflow images for notebooks under /app/work.
 */
export function planServerLayers(): LayerPlan[] {
  const serverDir = path.resolve(__dirname, '..', '..');
  const lockfile = findLockfile(serverDir);
  const packages = packageClosure(['@cellgraph/server'], serverDir, new Set(RUNTIME_PACKAGES));
  const built = (rel: string) => rel === 'package.json' || (rel.startsWith('dist/') && rel.endsWith('.js') && !rel.includes('/__tests__/'));
  const serverFiles = (rel: string) => built(rel) || rel.startsWith('bin/');
  const sources = [
    { imageRoot: `${ImagePaths.nodeModules}/@cellgraph/schema`, files: packageFiles(runtimeDir('@cellgraph/schema', serverDir), built) },
    { imageRoot: `${ImagePaths.nodeModules}/@cellgraph/kernel`, files: packageFiles(runtimeDir('@cellgraph/kernel', serverDir), built) },
    { imageRoot: `${ImagePaths.nodeModules}/@cellgraph/server`, files: packageFiles(serverDir, serverFiles) },
    // The lockfile that pins /app/node_modules: notebooks the server runs from /app/work build
    // their workflow images from these packages, keyed by this lockfile, as on a laptop.
    { imageRoot: ImagePaths.app, files: [{ rel: 'package-lock.json', abs: lockfile, executable: false }] }
  ];
  return [dependenciesLayerPlan(packages, lockfile), filesLayerPlan('server', 'cellgraph server: @cellgraph/schema, @cellgraph/kernel, @cellgraph/server', sources)];
}
