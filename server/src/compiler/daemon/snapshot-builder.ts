/**
 * Builds the compile daemon's V8 startup snapshot (docs/cli-speed.md): run as
 * `node --snapshot-blob <file> --build-snapshot snapshot-builder.js` by the daemon, in the
 * background, after its first compile (or by `cellgraph daemon prepare`). The snapshot holds
 * the compiler's modules (TypeScript, zod, @cellgraph/schema and the compiler, evaluated),
 * the standard library and @types declarations parsed and bound (TypeScript does not bind a
 * bound file again), and one compile of the daemon's last notebook, whose programs the next
 * compile of it builds on: a daemon started from it loads no code of the compiler from disk
 * and skips the 1-2 s of CPU a cold compile spends on declarations.
 *
 * A snapshot builder may require only Node's built-in modules, and it runs as a script with
 * no `exports`: so this file has no import or export statement (TypeScript would emit
 * `exports` for them), only `require` of built-ins, and its code sits in a block so that no
 * name is global. The compiler's modules are CommonJS files evaluated here with the
 * resolutions the daemon computed. Its inputs come in the environment from the daemon.
 */
{
type TS = typeof import('typescript');
type SnapshotInput = import('./protocol').SnapshotInput;
type SnapshotModule = import('./protocol').SnapshotModule;
type ParsedFileSeed = import('../typescript-host').ParsedFileSeed;
const fs = require('node:fs') as typeof import('node:fs');
const path = require('node:path') as typeof import('node:path');
const v8 = require('node:v8') as typeof import('node:v8');

/**
 * The compiler's CommonJS modules (compilerModules in snapshot.ts), evaluated as Node would,
 * with the resolutions the daemon computed: a snapshot builder has no module loader. After
 * deserialization, requires the daemon did not foresee (lazy ones) go to Node's loader.
 */
class SnapshotModules {
  private readonly byFile: Map<string, SnapshotModule>;
  readonly loaded = new Map<string, { exports: unknown }>();
  /** Node's require for a file, once the process runs (set after deserialization). */
  nodeRequire: ((file: string) => NodeJS.Require) | undefined;

  constructor(modules: SnapshotModule[]) {
    this.byFile = new Map(modules.map((m) => [m.file, m]));
  }

  load(file: string): unknown {
    const done = this.loaded.get(file);
    if (done !== undefined) return done.exports;
    const mod: { exports: unknown } = { exports: {} };
    this.loaded.set(file, mod);
    const body = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.json')) mod.exports = JSON.parse(body);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating a module's source is what a snapshot builder must do
    else new Function('exports', 'require', 'module', '__filename', '__dirname', body)(mod.exports, this.requireFrom(file), mod, file, path.dirname(file));
    return mod.exports;
  }

  private requireFrom(file: string): NodeJS.Require {
    const own = this.byFile.get(file)?.requires ?? {};
    const req = (spec: string): unknown => {
      const target = own[spec];
      if (target !== undefined) return this.load(target);
      // A built-in, or a require not foreseen: Node's loader once running, built-ins only while building.
      return this.nodeRequire !== undefined ? this.nodeRequire(file)(spec) : require(spec);
    };
    const resolve = (spec: string): string => {
      const target = own[spec];
      if (target !== undefined) return target;
      if (this.nodeRequire === undefined) throw new Error(`the startup snapshot cannot resolve ${spec} from ${file}`);
      return this.nodeRequire(file).resolve(spec);
    };
    return Object.assign(req, { resolve }) as unknown as NodeJS.Require;
  }
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** Parses and binds the declarations a notebook needs in any project, as virtualHost would cache them. */
function parseDeclarations(ts: TS, input: SnapshotInput): ParsedFileSeed[] {
  const seeds: ParsedFileSeed[] = [];
  const base = ts.createCompilerHost(input.options, true);
  const host: import('typescript').CompilerHost = {
    ...base,
    getSourceFile(fileName, languageVersion) {
      // What most notebooks import (params, artifacts, display); resolved from the notebook's folder.
      if (fileName === input.root) return ts.createSourceFile(fileName, "import '@cellgraph/kernel';\nconst warm: number = 1;\n", languageVersion, true, ts.ScriptKind.TS);
      const file = base.getSourceFile(fileName, languageVersion);
      seeds.push({ key: `${String(languageVersion)}:${fileName}`, mtimeMs: mtime(fileName), file });
      return file;
    },
    fileExists: (f) => f === input.root || base.fileExists(f),
    writeFile: () => undefined
  };
  const program = ts.createProgram([input.root], input.options, host);
  // Creating the checker binds every file; the bound files outlive this program and its checker.
  program.getSemanticDiagnostics();
  return seeds;
}

/**
 * What a process started from the snapshot runs: the snapshot's modules become Node's
 * (its require cache), so the daemon, loaded from disk, runs the compiler, TypeScript and
 * zod of the snapshot with the declarations and programs they hold.
 */
function startDaemon(modules: SnapshotModules, input: SnapshotInput, seeds: number): void {
  const entry = process.env.CELLGRAPH_DAEMON_ENTRY;
  if (entry === undefined) throw new Error('CELLGRAPH_DAEMON_ENTRY names no daemon.js');
  // Required here, after deserialization: node:module is not verified in snapshot builders.
  const { createRequire } = require('node:module') as typeof import('node:module');
  const load = createRequire(entry);
  modules.nodeRequire = (file) => createRequire(file);
  // Only when `typescript` is the very file the snapshot evaluated (same install) do its modules stand in for Node's.
  if (load.resolve('typescript') === input.typescript) {
    const Module = load('node:module') as new (id: string) => NodeJS.Module;
    for (const [file, { exports }] of modules.loaded) {
      if (load.cache[file] !== undefined) continue;
      const m = new Module(file);
      m.filename = file;
      m.exports = exports;
      m.loaded = true;
      load.cache[file] = m;
    }
  }
  const from = `a${input.prepared ? ' prepared' : ''} startup snapshot (${modules.loaded.size} modules, ${seeds} declaration files, ${input.notebooks.length} compile${input.notebooks.length === 1 ? '' : 's'})`;
  (load(entry) as typeof import('./daemon')).runDaemonProcess(from, input.prepared === true);
}

if (v8.startupSnapshot.isBuildingSnapshot()) {
  const input = JSON.parse(process.env.CELLGRAPH_SNAPSHOT_INPUT ?? '') as SnapshotInput;
  const modules = new SnapshotModules(input.modules);
  const ts = modules.load(input.typescript) as TS;
  const host = modules.load(path.join(input.compilerDir, 'typescript-host.js')) as typeof import('../typescript-host');
  const seeds = parseDeclarations(ts, input);
  host.seedParsedFiles(seeds);
  // Every task checked (no check cache) and the programs kept: the next compile of each builds on them, as in a warm daemon.
  const compiler = modules.load(path.join(input.compilerDir, 'index.js')) as typeof import('../index');
  for (const notebook of input.notebooks) compiler.compileNotebook(notebook);
  v8.startupSnapshot.setDeserializeMainFunction(() => startDaemon(modules, input, seeds.length));
}
}
