import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The user's cache folder for cellgraph, or a folder in it: `CELLGRAPH_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/cellgraph`, else `~/.cache/cellgraph`. Only things that can be rebuilt
 * live here (compiled code of the CLI, per-task type checks); deleting it costs only time.
 * No imports beyond Node's own: the CLI's entry loads it before anything else.
 */
export function cacheDir(...parts: string[]): string {
  const root = process.env.CELLGRAPH_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'cellgraph');
  return path.join(root, ...parts);
}
