import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDir } from '../../cli/cache-dir';
import { SNAPSHOT_FORMAT, type SnapshotManifest } from './runner-snapshot-build';

/** `0` turns the start-up snapshot off (every warm process then loads the task entry's modules itself). */
export const RUNNER_SNAPSHOT_ENV = 'CELLGRAPH_RUNNER_SNAPSHOT';

/** How long a checked manifest is trusted before its files are checked again (a rebuilt dist/ is noticed within this). */
const RECHECK_MS = 2000;

interface Known {
  args: string[];
  checkedAt: number;
}

const known = new Map<string, Known>();
const building = new Set<string>();
const failed = new Set<string>();

/**
 * The arguments that start `node` on a V8 start-up snapshot of the task entry, with its
 * modules (runner, invocation schema, zod, store) already loaded: `['--snapshot-blob',
 * file]`, or `[entry]` while there is none yet. A task process started from the snapshot
 * skips compiling and running ~35 modules (~20 ms of CPU of the ~60 ms a process costs
 * before its task; see docs/warm-pool.md). The snapshot is built once per Node binary,
 * entry and set of module files, in the background, into the user cache
 * (`<cache>/runner-snapshot/`); until it exists, and if it cannot be built, processes
 * start as before. Each process still runs exactly one attempt: the snapshot is a file
 * read at start, not a shared process.
 */
export function taskEntryArgs(entry: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (env[RUNNER_SNAPSHOT_ENV] === '0' || failed.has(entry)) return [entry];
  const now = Date.now();
  const memo = known.get(entry);
  if (memo !== undefined && now - memo.checkedAt < RECHECK_MS) return memo.args;
  const { blob, manifest } = snapshotPaths(entry);
  const args = isCurrent(manifest, entry) ? ['--snapshot-blob', blob] : [entry];
  if (args.length === 1) startBuild(entry, blob, manifest);
  known.set(entry, { args, checkedAt: now });
  return args;
}

/**
 * A process started from the snapshot died before it was used: start the entry's processes
 * from disk from now on in this server (a bad blob must not cost every warm process).
 */
export function distrustSnapshot(entry: string): void {
  failed.add(entry);
  known.delete(entry);
}

/** Where the blob and manifest of an entry live: keyed by the Node binary and the entry's path (the file named `task-entry`, for `ps` readers). */
export function snapshotPaths(entry: string): { blob: string; manifest: string } {
  const key = createHash('sha256').update(`${process.execPath}\0${process.version}\0${entry}`).digest('hex').slice(0, 16);
  const dir = cacheDir('runner-snapshot');
  return { blob: path.join(dir, `task-entry-${process.version}-${key}.blob`), manifest: path.join(dir, `task-entry-${process.version}-${key}.json`) };
}

/** The manifest names this Node and entry, and every module file it was built from is unchanged. */
function isCurrent(manifestFile: string, entry: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as SnapshotManifest;
    if (m.format !== SNAPSHOT_FORMAT || m.node !== process.version || m.execPath !== process.execPath || m.entry !== entry || !fs.existsSync(m.blob)) return false;
    return m.files.every(([file, size, mtimeMs]) => {
      const s = fs.statSync(file, { throwIfNoEntry: false });
      return s !== undefined && s.size === size && s.mtimeMs === mtimeMs;
    });
  } catch {
    return false;
  }
}

/** Builds the snapshot in a background process (once at a time per entry; not again in this process after a failure). */
function startBuild(entry: string, blob: string, manifest: string): void {
  if (building.has(entry) || failed.has(entry)) return;
  building.add(entry);
  let child;
  try {
    child = spawn(process.execPath, [builderScript(entry), entry, blob, manifest], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch {
    building.delete(entry);
    failed.add(entry);
    return;
  }
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('error', () => undefined);
  child.on('close', (code) => {
    building.delete(entry);
    known.delete(entry);
    if (code !== 0) {
      failed.add(entry);
      if (stderr !== '') process.stderr.write(stderr);
    }
  });
  // A build must not keep a CLI run alive; it finishes in the background or next time.
  child.unref();
  (child.stderr as unknown as { unref?(): void }).unref?.();
}

/** The compiled builder beside this file; under ts-jest (running sources) the one beside the built task entry. */
function builderScript(entry: string): string {
  const sibling = path.join(__dirname, 'runner-snapshot-build.js');
  return fs.existsSync(sibling) ? sibling : path.join(path.dirname(entry), 'local', 'runner-snapshot-build.js');
}
