/**
 * Builds the compile daemon's V8 startup snapshot (docs/cli-speed.md): run as
 * `node --snapshot-blob <file> --build-snapshot snapshot-builder.js` by the daemon, in the
 * background, after its first compile. The snapshot holds TypeScript and the standard
 * library and @types/node declarations parsed and bound, so a daemon started from it skips
 * the 1-2 s of CPU a cold compile spends on them (TypeScript does not bind a bound file again).
 *
 * A snapshot builder may require only Node's built-in modules, and it runs as a script with
 * no `exports`: so this file has no import or export statement (TypeScript would emit
 * `exports` for them), only `require` of built-ins, and its code sits in a block so that no
 * name is global. TypeScript is one CommonJS file that needs only built-ins, so it is
 * evaluated directly. Its inputs come in the environment from the daemon.
 */
{
type TS = typeof import('typescript');
type SnapshotInput = import('./protocol').SnapshotInput;
type ParsedFileSeed = import('../typescript-host').ParsedFileSeed;
const fs = require('node:fs') as typeof import('node:fs');
const path = require('node:path') as typeof import('node:path');
const v8 = require('node:v8') as typeof import('node:v8');

function loadTypeScript(file: string): TS {
  const mod: { exports: unknown } = { exports: {} };
  const body = fs.readFileSync(file, 'utf8');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating a module's source is what a snapshot builder must do
  new Function('module', 'exports', 'require', '__filename', '__dirname', body)(mod, mod.exports, require, file, path.dirname(file));
  return mod.exports as TS;
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
 * What a process started from the snapshot runs: TypeScript and the parsed files are handed
 * to the daemon's modules (loaded now, from disk), then the daemon serves as usual.
 */
function startDaemon(ts: TS, input: SnapshotInput, seeds: ParsedFileSeed[]): void {
  const entry = process.env.CELLGRAPH_DAEMON_ENTRY;
  if (entry === undefined) throw new Error('CELLGRAPH_DAEMON_ENTRY names no daemon.js');
  // Required here, after deserialization: node:module is not verified in snapshot builders.
  const { createRequire } = require('node:module') as typeof import('node:module');
  const load = createRequire(entry);
  // Only the very file the snapshot evaluated may stand in for `typescript`.
  if (load.resolve('typescript') === input.typescript) {
    const Module = load('node:module') as new (id: string) => NodeJS.Module;
    const m = new Module(input.typescript);
    m.filename = input.typescript;
    m.exports = ts;
    m.loaded = true;
    load.cache[input.typescript] = m;
    (load(path.join(path.dirname(entry), '..', 'typescript-host')) as typeof import('../typescript-host')).seedParsedFiles(seeds);
  }
  (load(entry) as typeof import('./daemon')).runDaemonProcess(`a startup snapshot (${seeds.length} declaration files)`);
}

if (v8.startupSnapshot.isBuildingSnapshot()) {
  const input = JSON.parse(process.env.CELLGRAPH_SNAPSHOT_INPUT ?? '') as SnapshotInput;
  const ts = loadTypeScript(input.typescript);
  const seeds = parseDeclarations(ts, input);
  v8.startupSnapshot.setDeserializeMainFunction(() => startDaemon(ts, input, seeds));
}
}
