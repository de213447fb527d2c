import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/**
 * Checker options mirroring tslab 1.0.22's (target and lib ES2022, Node10 resolution,
 * esModuleInterop, not strict), so a notebook type-checks here exactly when it does in
 * the kernel.
 */
export function checkerOptions(notebookDir: string): ts.CompilerOptions {
  return {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    experimentalDecorators: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    // tslab emits declarations for each cell; asking for them here reports the same errors.
    declaration: true,
    noEmit: true,
    typeRoots: typeRoots(notebookDir)
  };
}

/** The notebook's @types roots, falling back to ours for @types/node (as tslab does). */
function typeRoots(notebookDir: string): string[] {
  const roots: string[] = [];
  for (let dir = notebookDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', '@types');
    if (fs.existsSync(candidate)) roots.push(candidate);
    if (path.dirname(dir) === dir) break;
  }
  if (roots.some((r) => fs.existsSync(path.join(r, 'node', 'package.json')))) return roots;
  const ours = path.dirname(path.dirname(require.resolve('@types/node/package.json')));
  return [...roots, ours];
}

/**
 * Parsed library and package declaration files, shared by every compile in this process:
 * they do not change while we run, and parsing them is most of a cold compile.
 */
const diskFiles = new Map<string, { mtimeMs: number; file: ts.SourceFile | undefined }>();

/** One parsed file handed over from elsewhere (a startup snapshot), under the key virtualHost uses. */
export interface ParsedFileSeed {
  /** `${languageVersion}:${fileName}`, as virtualHost's getSourceFile keys it. */
  key: string;
  mtimeMs: number;
  file: ts.SourceFile | undefined;
}

/**
 * Adds parsed files made by this same TypeScript module elsewhere (the compile daemon's
 * startup snapshot): they are still checked by modification time on use, so a file edited
 * since is parsed again.
 */
export function seedParsedFiles(seeds: ParsedFileSeed[]): void {
  for (const s of seeds) if (!diskFiles.has(s.key)) diskFiles.set(s.key, { mtimeMs: s.mtimeMs, file: s.file });
}

function mtime(fileName: string): number {
  try {
    return fs.statSync(fileName).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * A compiler host serving virtual files from memory and everything else from disk (cached).
 * `reuse` may hand back an earlier program's parse of a virtual file with the same text.
 */
export function virtualHost(options: ts.CompilerOptions, files: Map<string, string>, reuse?: (fileName: string, text: string) => ts.SourceFile | undefined): ts.CompilerHost {
  const base = ts.createCompilerHost(options, true);
  return {
    ...base,
    getSourceFile(fileName, languageVersion) {
      const text = files.get(fileName);
      if (text !== undefined) return reuse?.(fileName, text) ?? ts.createSourceFile(fileName, text, languageVersion, true, ts.ScriptKind.TS);
      // Keyed by modification time too: a long-lived server must see edited packages.
      const key = `${String(languageVersion)}:${fileName}`;
      const stamp = mtime(fileName);
      const cached = diskFiles.get(key);
      if (cached !== undefined && cached.mtimeMs === stamp) return cached.file;
      const file = base.getSourceFile(fileName, languageVersion);
      diskFiles.set(key, { mtimeMs: stamp, file });
      return file;
    },
    fileExists: (f) => files.has(f) || base.fileExists(f),
    readFile: (f) => files.get(f) ?? base.readFile(f),
    writeFile: () => undefined
  };
}

/** Where virtual files live: inside the notebook's directory, so imports resolve from there. */
export function virtualPath(notebookDir: string, name: string): string {
  return path.join(notebookDir, `__cellgraph_${name}__.ts`);
}

/** Whether a program file is one of ours (in memory), not a file on disk. */
export function isVirtualPath(fileName: string): boolean {
  return /__cellgraph_[^/\\]*__\.ts$/.test(fileName);
}
