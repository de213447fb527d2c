/**
 * Builds the V8 start-up snapshot of the task entry (see runner-snapshot.ts): run as
 * `node runner-snapshot-build.js <entry> <blob> <manifest>` in a background process.
 *
 * Node snapshots one script, which may only `require` Node's own modules while it is
 * built, so the entry's module graph (the runner, the invocation schema, zod, the
 * filesystem store) is first put in one file: each module's compiled CommonJS wrapped in a
 * function, with `require` answered from the resolutions recorded while loading the entry
 * here. Anything outside that graph (a task's own packages, the S3 store) is loaded from
 * disk at run time by Node's loader, as before.
 *
 * Only Node's own modules are imported here: whatever this file loads would land in the graph.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';

/** The manifest's format: a manifest of another format (another bundling) is stale. */
export const SNAPSHOT_FORMAT = 2;

/** What a snapshot was built from: a blob is used only while every file is unchanged. */
export interface SnapshotManifest {
  format: number;
  node: string;
  execPath: string;
  entry: string;
  blob: string;
  /** [path, size, mtimeMs] of every module in the snapshot, and of the builder. */
  files: [string, number, number][];
}

/** The entry's CommonJS graph: files in load order, and (directory of the requiring file, request) -> file. */
function recordGraph(entry: string): { files: string[]; resolved: Record<string, string> } {
  const loader = Module as unknown as { _resolveFilename(request: string, parent: { filename?: string } | undefined, ...rest: unknown[]): string };
  const original = loader._resolveFilename;
  const resolved: Record<string, string> = {};
  loader._resolveFilename = function (request, parent, ...rest) {
    const file = original.call(this, request, parent, ...rest);
    // Node caches resolutions per directory, not per file: key them the same way.
    if (parent?.filename !== undefined && !Module.isBuiltin(file)) resolved[`${path.dirname(parent.filename)}\0${request}`] = file;
    return file;
  };
  try {
    require(entry);
  } finally {
    loader._resolveFilename = original;
  }
  const files = Object.keys(require.cache).filter((f) => f !== __filename);
  const notScript = files.find((f) => !/\.c?js$/.test(f));
  if (notScript !== undefined) throw new Error(`the task entry loads ${notScript}, which a snapshot bundle cannot hold`);
  return { files, resolved };
}

/**
 * One script holding the graph. At build time its `require` serves the graph's modules
 * itself; after deserialization the modules are registered in Node's module cache under
 * their file names, so a task that requires the same files (e.g. `@cellgraph/kernel`,
 * whose index requires the runner's `runtime.js`) shares their instances, as it does
 * without the snapshot.
 */
function bundleSource(entry: string, graph: { files: string[]; resolved: Record<string, string> }): string {
  const parts = ['"use strict";', 'const __defs = Object.create(null);'];
  for (const file of graph.files) {
    const source = fs.readFileSync(file, 'utf8').replace(/^#!/, '//');
    parts.push(`__defs[${JSON.stringify(file)}] = function (exports, require, module, __filename, __dirname) {${source}\n};`);
  }
  parts.push(`const __resolved = ${JSON.stringify(graph.resolved)};`);
  parts.push(`const __path = require('node:path');
const __loaded = Object.create(null);
let __Module; // Node's loader, for what is outside the graph; only touched at run time (a snapshot must not load user modules through it)
const __outside = (from) => (__Module ??= require('node:module')).createRequire(from);
function __load(file) {
  const done = __loaded[file];
  if (done !== undefined) return done.exports;
  const module = { exports: {}, id: file, filename: file, loaded: false, children: [] };
  __loaded[file] = module;
  const req = (id) => __require(file, id);
  req.resolve = (id) => __resolved[__path.dirname(file) + '\\0' + id] ?? __outside(file).resolve(id);
  req.cache = __loaded;
  __defs[file].call(module.exports, module.exports, req, module, file, __path.dirname(file));
  module.loaded = true;
  return module.exports;
}
function __require(from, id) {
  if (require('node:module').isBuiltin(id)) return require(id);
  const file = __resolved[__path.dirname(from) + '\\0' + id];
  return file !== undefined && __defs[file] !== undefined ? __load(file) : __outside(from)(id);
}
const __entry = __load(${JSON.stringify(entry)});
require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {
  const Module = (__Module ??= require('node:module'));
  for (const [file, loaded] of Object.entries(__loaded)) {
    const real = new Module(file, null);
    real.filename = file;
    real.exports = loaded.exports;
    real.loaded = true;
    real.paths = Module._nodeModulePaths(__path.dirname(file));
    Module._cache[file] = real;
  }
  __entry.start();
});
`);
  return parts.join('\n');
}

/**
 * Builds `blob` for `entry` and writes `manifest` once the blob is in place and starts.
 * Both appear by rename, so a reader sees the old pair or the new one, never half a file.
 */
export function buildRunnerSnapshot(entry: string, blob: string, manifest: string): void {
  const graph = recordGraph(entry);
  const dir = path.dirname(blob);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${blob}.${process.pid}`;
  // The script stays beside the blob: stack frames of the runner's code name it (line numbers included).
  const script = blob.replace(/\.blob$/, '.js');
  try {
    fs.writeFileSync(`${script}.${process.pid}`, bundleSource(entry, graph));
    fs.renameSync(`${script}.${process.pid}`, script);
    const built = spawnSync(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', script], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (built.status !== 0) throw new Error(`node --build-snapshot exited with ${built.status}: ${built.stderr.slice(-2000)}`);
    // The blob must start and reach the entry's main: with nothing to do, it says so and exits 2.
    const tried = spawnSync(process.execPath, ['--snapshot-blob', tmp], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    if (tried.status !== 2 || !tried.stderr.includes('cellgraph task entry: set')) {
      throw new Error(`the snapshot does not start the task entry (exit ${tried.status}): ${tried.stderr.slice(-2000)}`);
    }
    fs.renameSync(tmp, blob);
    // This builder too: a blob made by another version of the bundling is stale as well.
    const files = [...graph.files, __filename].map((f): [string, number, number] => {
      const s = fs.statSync(f);
      return [f, s.size, s.mtimeMs];
    });
    const content: SnapshotManifest = { format: SNAPSHOT_FORMAT, node: process.version, execPath: process.execPath, entry, blob, files };
    fs.writeFileSync(`${manifest}.${process.pid}`, JSON.stringify(content));
    fs.renameSync(`${manifest}.${process.pid}`, manifest);
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(`${script}.${process.pid}`, { force: true });
  }
}

if (require.main === module) {
  const [entry, blob, manifest] = process.argv.slice(2);
  try {
    buildRunnerSnapshot(entry, blob, manifest);
  } catch (e) {
    process.stderr.write(`cellgraph: could not build the task entry's start-up snapshot: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
