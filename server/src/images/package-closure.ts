import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors';

/**
 * Which installed npm packages a workflow needs at run time, so its image carries exactly
 * those (Kale's most reported failure is a step image missing a package the notebook used).
 */

const PackageJson = z
  .object({
    name: z.string().optional(),
    dependencies: z.record(z.string()).optional(),
    optionalDependencies: z.record(z.string()).optional()
  })
  .passthrough();

const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Bare package names a piece of generated CommonJS requires (`require("zod")`, `require("a/b")`). */
export function requiredPackages(js: string): string[] {
  const names = new Set<string>();
  const re = /\brequire\(\s*(['"])([^'"]+)\1\s*\)/g;
  for (let m = re.exec(js); m; m = re.exec(js)) {
    const spec = m[2];
    if (spec.startsWith('.') || spec.startsWith('/') || BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0])) continue;
    names.add(packageName(spec));
  }
  return [...names].sort();
}

/** `@scope/name/sub/path` -> `@scope/name`; `name/sub` -> `name`. */
export function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Finds a package the way Node does from a directory: the nearest node_modules/<name> upward. */
export function resolvePackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** One package to copy: where it is on disk, and where it goes under the image's node_modules. */
export interface PackageToCopy {
  name: string;
  dir: string;
  /** Path relative to the node_modules root it was found under, e.g. `a/node_modules/b`. */
  imagePath: string;
}

/**
 * The packages `roots` resolve to from `fromDir`, with their `dependencies` and
 * `optionalDependencies`, transitively. Peer dependencies are the host's job and left out
 * (kernel-lib's optional `tslab` peer is only for the interactive kernel). `exclude`
 * names packages the image carries another way (cellgraph's own runtime), whose
 * dependencies still count.
 */
export function packageClosure(roots: string[], fromDir: string, exclude: Set<string> = new Set()): PackageToCopy[] {
  const found = new Map<string, PackageToCopy>();
  const queue: { name: string; from: string; requiredBy: string; optional: boolean }[] = roots.map((name) => ({ name, from: fromDir, requiredBy: 'the notebook', optional: false }));
  const missing: string[] = [];
  while (queue.length > 0) {
    const next = queue.shift()!;
    const dir = resolvePackageDir(next.name, next.from);
    if (!dir) {
      if (!next.optional) missing.push(`${next.name} (needed by ${next.requiredBy})`);
      continue;
    }
    if (found.has(dir)) continue;
    const imagePath = nodeModulesRelative(dir);
    found.set(dir, { name: next.name, dir, imagePath });
    const pkg = PackageJson.parse(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')));
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, requiredBy: next.name, optional: false });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, requiredBy: next.name, optional: true });
  }
  if (missing.length > 0) {
    throw new ValidationError(`packages are not installed: ${missing.join(', ')}; run npm install next to the notebook before building its image`, 'dependencies');
  }
  return [...found.values()].filter((p) => !exclude.has(p.name)).sort((a, b) => (a.imagePath < b.imagePath ? -1 : 1));
}

/** `/x/node_modules/a/node_modules/@s/b` -> `a/node_modules/@s/b` (relative to the first node_modules). */
function nodeModulesRelative(dir: string): string {
  const parts = dir.split(path.sep);
  const first = parts.indexOf('node_modules');
  return parts.slice(first + 1).join('/');
}

/**
 * Every regular file of a package directory, as relative paths: nested node_modules are
 * left to the closure (they are copied as packages of their own when needed).
 */
export function packageFiles(dir: string, keep: (rel: string) => boolean = () => true): { rel: string; abs: string; executable: boolean }[] {
  const out: { rel: string; abs: string; executable: boolean }[] = [];
  const walk = (abs: string, rel: string) => {
    for (const name of fs.readdirSync(abs).sort()) {
      const childAbs = path.join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      if (name === 'node_modules' || name === '.git') continue;
      let stat: fs.Stats;
      try {
        stat = fs.statSync(childAbs);
      } catch {
        continue; // A dangling symlink: nothing to copy.
      }
      if (stat.isDirectory()) walk(childAbs, childRel);
      else if (stat.isFile() && keep(childRel)) out.push({ rel: childRel, abs: childAbs, executable: (stat.mode & 0o111) !== 0 });
    }
  };
  walk(dir, '');
  return out;
}

/**
 * The files of one package's compiled code reachable from `entry` through relative
 * requires, and the packages they require: what the image needs of cellgraph's server to
 * run a task (not the compiler, TypeScript or SQLite).
 */
export function moduleClosure(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (files.has(file)) continue;
    files.add(file);
    const js = fs.readFileSync(file, 'utf8');
    const re = /\brequire\(\s*(['"])([^'"]+)\1\s*\)/g;
    for (let m = re.exec(js); m; m = re.exec(js)) {
      const spec = m[2];
      if (spec.startsWith('.')) {
        const base = path.resolve(path.dirname(file), spec);
        const target = [base, `${base}.js`, path.join(base, 'index.js')].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
        if (!target) throw new Error(`internal: ${file} requires ${spec}, which is not built`);
        queue.push(target);
      } else if (!BUILTINS.has(spec) && !BUILTINS.has(spec.split('/')[0])) {
        packages.add(packageName(spec));
      }
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}
