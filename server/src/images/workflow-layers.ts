import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkflowIR } from '@cellgraph/schema';
import { ValidationError } from '../errors';
import type { TarEntry } from './deterministic-tar';
import { PackageToCopy, moduleClosure, packageClosure, packageFiles, requiredPackages } from './package-closure';
import { canonicalJson } from '../canonical-json';

/** Where things live inside a cellgraph image. */
export const ImagePaths = {
  app: '/app',
  nodeModules: '/app/node_modules',
  /** The notebook's directory: the working directory tasks run in. */
  work: '/app/work',
  /** The compiled workflow (IR) the image was built for. */
  workflow: '/app/.cellgraph/workflow.json',
  taskEntry: '/app/node_modules/@cellgraph/server/dist/executors/task-entry.js'
} as const;

/** A layer's inputs, before tarring: a cache key over them and a way to list the entries. */
export interface LayerPlan {
  name: 'dependencies' | 'runtime' | 'files' | 'notebook' | 'server';
  /** Changes exactly when the layer's content would: a cached layer with this key is reused. */
  key: string;
  /** What the layer adds, for the image history. */
  description: string;
  entries(): TarEntry[];
}

/** cellgraph's own packages: copied as built (runtime layer), never as dependencies. */
export const RUNTIME_PACKAGES = ['@cellgraph/schema', '@cellgraph/kernel', '@cellgraph/server'];

function hashOf(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/** The lockfile pinning the notebook's dependencies: the nearest package-lock.json upward. */
export function findLockfile(notebookDir: string): string {
  for (let dir = notebookDir; ; dir = path.dirname(dir)) {
    for (const name of ['package-lock.json', 'npm-shrinkwrap.json']) {
      const candidate = path.join(dir, name);
      if (fs.existsSync(candidate)) return candidate;
    }
    if (path.dirname(dir) === dir) {
      throw new ValidationError(
        `no package-lock.json in ${notebookDir} or above: the image's dependencies are pinned by the lockfile; run npm install next to the notebook`,
        'lockfile'
      );
    }
  }
}

/** cellgraph's own packages as installed for the notebook (resolved like the notebook's imports). */
export function runtimeDir(name: string, notebookDir: string): string {
  for (let dir = notebookDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  // The notebook's project does not install cellgraph itself: use the running copy (the
  // server's own directory, and the packages it depends on, wherever npm put them).
  if (name === '@cellgraph/server') return path.resolve(__dirname, '..', '..');
  return path.dirname(require.resolve(`${name}/package.json`));
}

function filesUnder(root: string, imageRoot: string, rels: { rel: string; abs: string; executable: boolean }[]): TarEntry[] {
  return rels.map((f) => ({ kind: 'file' as const, path: `${imageRoot}/${f.rel}`, data: fs.readFileSync(f.abs), executable: f.executable }));
}

/** The runtime: cellgraph's schema and kernel-lib builds, and just the server modules a task attempt loads. */
function runtimePlan(notebookDir: string): { plan: LayerPlan; packages: string[] } {
  const serverDir = runtimeDir('@cellgraph/server', notebookDir);
  const entry = path.join(serverDir, 'dist', 'executors', 'task-entry.js');
  if (!fs.existsSync(entry)) throw new Error(`internal: ${entry} is not built (run npm run build)`);
  const closure = moduleClosure(entry);
  const jsOnly = (rel: string) => rel === 'package.json' || (rel.startsWith('dist/') && rel.endsWith('.js'));
  const sources: LayerSource[] = [
    { imageRoot: `${ImagePaths.nodeModules}/@cellgraph/schema`, files: packageFiles(runtimeDir('@cellgraph/schema', notebookDir), jsOnly) },
    { imageRoot: `${ImagePaths.nodeModules}/@cellgraph/kernel`, files: packageFiles(runtimeDir('@cellgraph/kernel', notebookDir), jsOnly) },
    {
      imageRoot: `${ImagePaths.nodeModules}/@cellgraph/server`,
      files: [
        { rel: 'package.json', abs: path.join(serverDir, 'package.json'), executable: false },
        ...closure.files.map((abs) => ({ rel: path.relative(serverDir, abs).split(path.sep).join('/'), abs, executable: false }))
      ]
    }
  ];
  const packages = closure.packages.filter((p) => !RUNTIME_PACKAGES.includes(p));
  return { packages, plan: filesLayerPlan('runtime', 'cellgraph runtime: @cellgraph/schema, @cellgraph/kernel, task entry', sources) };
}

/** Files copied from this machine into the image at the given roots. */
export interface LayerSource {
  imageRoot: string;
  files: { rel: string; abs: string; executable: boolean }[];
}

/** A layer of files copied as they are, keyed by their image paths and contents. */
export function filesLayerPlan(name: LayerPlan['name'], description: string, sources: LayerSource[]): LayerPlan {
  const h = createHash('sha256');
  for (const s of sources) for (const f of s.files) h.update(`${s.imageRoot}/${f.rel}\0${f.executable}\0`).update(fs.readFileSync(f.abs));
  return { name, key: h.digest('hex'), description, entries: () => sources.flatMap((s) => filesUnder('', s.imageRoot, s.files)) };
}

/** The node_modules layer: `packages` as installed here, keyed by the lockfile that pins them and Node's ABI (native modules). */
export function dependenciesLayerPlan(packages: PackageToCopy[], lockfile: string): LayerPlan {
  return {
    name: 'dependencies',
    key: hashOf(fs.readFileSync(lockfile), process.versions.modules, ...packages.map((p) => p.imagePath)),
    description: `node_modules: ${packages.map((p) => p.name).join(', ') || '(none)'} (${path.basename(lockfile)})`,
    entries: () => packages.flatMap((p) => filesUnder(p.dir, `${ImagePaths.nodeModules}/${p.imagePath}`, packageFiles(p.dir)))
  };
}

/** Files next to the notebook (data it reads), minus cellgraph's home, packages, outputs and dotfiles. */
function projectFiles(notebookDir: string, notebookFile: string): { rel: string; abs: string; executable: boolean }[] {
  const skipDir = new Set(['node_modules', '.cellgraph', 'out', '.ipynb_checkpoints', '.git', '.venv']);
  const out: { rel: string; abs: string; executable: boolean }[] = [];
  const walk = (abs: string, rel: string) => {
    for (const name of fs.readdirSync(abs).sort()) {
      if (name.startsWith('.') || (skipDir.has(name) && fs.statSync(path.join(abs, name)).isDirectory())) continue;
      const childAbs = path.join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const stat = fs.statSync(childAbs);
      if (stat.isDirectory()) walk(childAbs, childRel);
      else if (stat.isFile() && childAbs !== notebookFile && !name.endsWith('.ipynb')) out.push({ rel: childRel, abs: childAbs, executable: (stat.mode & 0o111) !== 0 });
    }
  };
  walk(notebookDir, '');
  return out;
}

/**
 * The four layers of a workflow's image, least to most often changed, so an edit to one
 * cell re-uploads only the last, small one: dependencies (keyed by the lockfile), the
 * cellgraph runtime, the project's files next to the notebook (data), and the notebook
 * with its compiled workflow.
 */
export function planWorkflowLayers(ir: WorkflowIR, notebookPath: string, notebookText: string): LayerPlan[] {
  const notebookFile = path.resolve(notebookPath);
  const notebookDir = path.dirname(notebookFile);
  const lockfile = findLockfile(notebookDir);
  const runtime = runtimePlan(notebookDir);

  const imports = new Set<string>(runtime.packages);
  for (const js of [ir.paramsModule, ...ir.tasks.map((t) => t.module)]) for (const p of requiredPackages(js)) imports.add(p);
  // schema and kernel-lib bring their dependencies (zod) though they ship in the runtime layer;
  // the server's needs are the task entry's requires only (runtime.packages), not its package.json.
  imports.add('@cellgraph/schema');
  imports.add('@cellgraph/kernel');
  imports.delete('@cellgraph/server');
  const packages = packageClosure([...imports].sort(), notebookDir, new Set(RUNTIME_PACKAGES));
  const dependencies = dependenciesLayerPlan(packages, lockfile);

  const files = projectFiles(notebookDir, notebookFile);
  const filesHash = createHash('sha256');
  for (const f of files) filesHash.update(`${f.rel}\0${f.executable}\0`).update(fs.readFileSync(f.abs));
  const project: LayerPlan = {
    name: 'files',
    key: filesHash.digest('hex'),
    description: `project files: ${files.length} file(s) next to the notebook`,
    entries: () => [{ kind: 'dir', path: ImagePaths.work }, ...filesUnder(notebookDir, ImagePaths.work, files)]
  };

  const notebookName = path.basename(notebookFile);
  // Without `image`: an image cannot hold its own digest, and an IR bound to an earlier
  // build (as runs publish it) must make the same layer. Canonical, so key order never counts.
  const { image: _bound, ...unbound } = ir;
  const irText = canonicalJson(unbound);
  const notebook: LayerPlan = {
    name: 'notebook',
    key: hashOf(notebookName, notebookText, irText),
    description: `notebook ${notebookName}, workflow ${ir.name} ${ir.version}`,
    entries: () => [
      { kind: 'file', path: `${ImagePaths.work}/${notebookName}`, data: Buffer.from(notebookText) },
      { kind: 'file', path: ImagePaths.workflow, data: Buffer.from(irText) }
    ]
  };
  return [dependencies, runtime.plan, project, notebook];
}
