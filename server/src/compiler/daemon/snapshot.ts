/**
 * Builds the compile daemon's V8 startup snapshot (docs/cli-speed.md) in a background
 * process (`node --build-snapshot snapshot-builder.js`), for the daemon once idle after a
 * compile, and for `cellgraph daemon prepare` (setup), which waits for it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkerOptions, virtualPath } from '../typescript-host';
import type { SnapshotInput, SnapshotModule } from './protocol';

/** How much lower than the daemon the snapshot build runs (nice value): it must not slow the user's next command. */
const SNAPSHOT_NICENESS = 10;

/** Literal `require('x')` and `require.resolve('x')` calls of a built CommonJS file. */
const REQUIRE = /\brequire(\.resolve)?\(\s*(['"])([^'"\n]+)\2\s*\)/g;

/**
 * The compiler's modules as the daemon loads them: `roots` and every non-built-in module
 * they require, each with how its literal requires resolve (Node's own resolution, done
 * here because a snapshot builder has no module loader). The snapshot evaluates these, so
 * a daemon started from it loads nothing of the compiler, TypeScript or zod from disk.
 */
export function compilerModules(roots: string[]): SnapshotModule[] {
  const { createRequire, isBuiltin } = require('node:module') as typeof import('node:module');
  const modules = new Map<string, SnapshotModule>();
  const pending = roots.map((r) => require.resolve(r));
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (modules.has(file)) continue;
    const requires: Record<string, string> = {};
    const load = createRequire(file);
    for (const [, resolveOnly, , spec] of fs.readFileSync(file, 'utf8').matchAll(REQUIRE)) {
      if (isBuiltin(spec)) continue;
      let resolved: string;
      try {
        resolved = load.resolve(spec);
      } catch {
        continue; // An optional require (in a try) of something not installed: the real require answers later.
      }
      requires[spec] = resolved;
      if (resolveOnly === undefined && /\.(c?js|json)$/.test(resolved)) pending.push(resolved);
    }
    modules.set(file, { file, requires });
  }
  return [...modules.values()];
}

/** What the snapshot holds besides the compiler: the declarations of `notebookDir`'s project and a compile of each of `notebooks`. */
export interface SnapshotContent {
  notebookDir: string;
  notebooks: { path: string; text: string }[];
  /** Built ahead by `cellgraph daemon prepare` (see SnapshotInput). */
  prepared?: boolean;
}

/**
 * Builds the startup snapshot `blob` (written to a temporary file, then renamed: a reader
 * never sees half a blob) and deletes other builds' blobs beside it. Resolves whether it
 * was built; `log` hears why not. Runs at nice 10; `detach` lets the calling process exit first.
 */
export function buildSnapshot(blob: string, content: SnapshotContent, log: (message: string) => void, detach = false): Promise<boolean> {
  const tmp = `${blob}.${process.pid}.tmp`;
  const input: SnapshotInput = {
    typescript: require.resolve('typescript'),
    options: checkerOptions(content.notebookDir),
    root: virtualPath(content.notebookDir, 'snapshot'),
    compilerDir: path.join(__dirname, '..'),
    modules: compilerModules([path.join(__dirname, '..', 'index'), path.join(__dirname, '..', 'check-cache'), path.join(__dirname, 'protocol')]),
    notebooks: content.notebooks,
    ...(content.prepared ? { prepared: true } : {})
  };
  try {
    fs.mkdirSync(path.dirname(blob), { recursive: true });
  } catch (e) {
    log(`no startup snapshot: ${String(e)}`);
    return Promise.resolve(false);
  }
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', path.join(__dirname, 'snapshot-builder.js')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CELLGRAPH_SNAPSHOT_INPUT: JSON.stringify(input) }
  });
  try {
    if (child.pid !== undefined) os.setPriority(child.pid, SNAPSHOT_NICENESS);
  } catch {
    // Not permitted here: it builds at normal priority.
  }
  if (detach) child.unref();
  return new Promise((resolve) => {
    child.on('error', (e) => {
      log(`no startup snapshot: ${e.message}`);
      resolve(false);
    });
    child.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`the snapshot build exited ${code}`);
        fs.renameSync(tmp, blob);
        for (const f of fs.readdirSync(path.dirname(blob))) {
          if (/^daemon-[0-9a-f]{16}\.blob$/.test(f) && path.join(path.dirname(blob), f) !== blob) fs.rmSync(path.join(path.dirname(blob), f), { force: true });
        }
        log(`built the startup snapshot ${blob} in ${Date.now() - t0} ms`);
        resolve(true);
      } catch (e) {
        fs.rmSync(tmp, { force: true });
        log(`no startup snapshot: ${e instanceof Error ? e.message : String(e)}`);
        resolve(false);
      }
    });
  });
}
