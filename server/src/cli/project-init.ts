import * as fs from 'node:fs';
import * as path from 'node:path';
import { ValidationError } from '../errors';

/** The package notebooks import; tslab and the compiler resolve it from the notebook's folder upward. */
export const KERNEL_PACKAGE = '@cellgraph/kernel';

/** What `cellgraph init` found or did. */
export interface InitResult {
  /** The folder set up (absolute). */
  dir: string;
  /** `present`: notebooks there already resolve the kernel library (from `resolvedFrom`); nothing was written. */
  kernel: 'present' | 'linked';
  /** The @cellgraph/kernel notebooks in `dir` now import. */
  kernelDir: string;
  /** Set when the kernel library was already resolvable: the folder whose node_modules has it. */
  resolvedFrom?: string;
  packageJson?: 'created' | 'updated' | 'kept';
}

/**
 * The @cellgraph/kernel a notebook in `dir` imports, as tslab (TypeScript's Node10 resolution)
 * and Node find it: `node_modules/@cellgraph/kernel` in `dir` or the nearest parent having it.
 */
export function kernelVisibleFrom(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', KERNEL_PACKAGE);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(d) === d) return undefined;
  }
}

/** The kernel library installed with this cellgraph (the server depends on it). */
export function installedKernelDir(): string {
  return fs.realpathSync(path.dirname(require.resolve(`${KERNEL_PACKAGE}/package.json`)));
}

function packageName(dir: string): string {
  const base = path.basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '');
  return base || 'notebooks';
}

/** Adds the kernel dependency to `dir`'s package.json, creating a private one when there is none. */
function writePackageJson(dir: string, spec: string): 'created' | 'updated' | 'kept' {
  const file = path.join(dir, 'package.json');
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, `${JSON.stringify({ name: packageName(dir), private: true, dependencies: { [KERNEL_PACKAGE]: spec } }, null, 2)}\n`);
    return 'created';
  }
  let pkg: unknown;
  try {
    pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ValidationError(`${file} is not valid JSON (${(e as Error).message}): fix it, then run cellgraph init again`, 'package.json');
  }
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) throw new ValidationError(`${file} is not a JSON object`, 'package.json');
  const obj = pkg as Record<string, unknown>;
  const deps = obj.dependencies;
  if (deps !== undefined && (typeof deps !== 'object' || deps === null || Array.isArray(deps))) {
    throw new ValidationError(`${file}: "dependencies" is not an object`, 'package.json');
  }
  const current = (deps ?? {}) as Record<string, unknown>;
  if (KERNEL_PACKAGE in current) return 'kept';
  obj.dependencies = { ...current, [KERNEL_PACKAGE]: spec };
  fs.writeFileSync(file, `${JSON.stringify(obj, null, 2)}\n`);
  return 'updated';
}

/**
 * Makes `dir` a folder whose notebooks (and those in its subfolders) can import
 * @cellgraph/kernel in the tslab kernel and in the compiler: links this installation's kernel
 * library into `dir/node_modules` and records it in `dir/package.json` (created if missing) as
 * a `file:` dependency, so a later `npm install` there keeps it. Does nothing when the kernel
 * library already resolves from `dir` (say, cellgraph is installed in a parent folder).
 */
export function initProject(dir: string, kernelDir: string = installedKernelDir()): InitResult {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new ValidationError(`${abs} is not a directory`, 'dir');
  const visible = kernelVisibleFrom(abs);
  if (visible !== undefined) return { dir: abs, kernel: 'present', kernelDir: fs.realpathSync(visible), resolvedFrom: path.resolve(visible, '..', '..', '..') };
  const packageJson = writePackageJson(abs, `file:${kernelDir}`);
  const link = path.join(abs, 'node_modules', KERNEL_PACKAGE);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  // A dangling link (a moved installation) is replaced; anything else there is the user's.
  if (fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(link);
  fs.symlinkSync(kernelDir, link, 'dir');
  return { dir: abs, kernel: 'linked', kernelDir, packageJson };
}
