import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { Diagnostic, WorkflowIR } from '@cellgraph/schema';
import type { ArtifactStore } from '../stores';
import { loadWorkflow } from '../engine/workflow-files';
import { compilerFingerprint } from './compiler-version';
import type { CompileInput, CompileResult } from './index';

/**
 * A compile cache for repeated runs of an unchanged notebook. A cold type-check pays for
 * parsing lib.es2022 and @types/node (~2 s in a fresh process), which would dominate a
 * fully cached re-run. An entry is reused only when the notebook text, the compiler
 * itself, and every file the type checker read (same size and modification time) are
 * unchanged; anything else compiles afresh.
 */
const CacheEntry = z.object({
  version: z.string(),
  warnings: z.array(Diagnostic),
  inputs: z.array(z.object({ path: z.string(), size: z.number(), mtimeMs: z.number() }))
});
type CacheEntry = z.infer<typeof CacheEntry>;
/** A file the type checker read, as it was then: a changed size or mtime makes a cached compile stale. */
export type InputStamp = CacheEntry['inputs'][number];

function cacheKey(input: CompileInput): string {
  const digest = createHash('sha256').update(compilerFingerprint()).update('\0').update(input.path).update('\0').update(input.name ?? '').update('\0').update(input.text).digest('hex');
  return `compiled/${digest}.json`;
}

/** The size and mtime of a file now (undefined when it is gone). */
export function stamp(file: string): InputStamp | undefined {
  try {
    const s = fs.statSync(file);
    return { path: file, size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return undefined;
  }
}

/**
 * Whether every file still has the size and mtime it had when stamped. Asynchronous: a
 * compile reads a hundred files or more (TypeScript's libraries, @types/node), and the
 * server's event loop must not wait on a hundred synchronous stats per cache hit.
 */
export async function unchanged(inputs: InputStamp[]): Promise<boolean> {
  const same = await Promise.all(
    inputs.map(async (i) => {
      const now = await fs.promises.stat(i.path).catch(() => undefined);
      return now !== undefined && now.size === i.size && now.mtimeMs === i.mtimeMs;
    })
  );
  return same.every(Boolean);
}

async function lookup(store: ArtifactStore, key: string): Promise<{ ir: WorkflowIR; warnings: Diagnostic[] } | undefined> {
  if (!(await store.hasFile(key))) return undefined;
  let entry: CacheEntry;
  try {
    entry = CacheEntry.parse(JSON.parse((await store.getFile(key)).toString('utf8')));
  } catch {
    return undefined; // A damaged entry is only a cache miss.
  }
  if (!(await unchanged(entry.inputs))) return undefined;
  try {
    // Runs publish the IR bound to their image; a compile result is never bound to one.
    const { image: _bound, ...ir } = await loadWorkflow(store, entry.version);
    return { ir, warnings: entry.warnings };
  } catch {
    return undefined;
  }
}

/**
 * Compiles a notebook, or returns the result of an identical earlier compile filed in
 * `store`. Only successful compiles are cached (errors are always recomputed, so a fix
 * elsewhere, such as installing a package, is seen at once). The caller must publish the
 * IR to the same store (the engine does when it starts a run): entries point at it.
 */
export async function compileWithCache(
  store: ArtifactStore,
  input: CompileInput,
  /** How to compile on a miss: in this thread by default (TypeScript loads only then); the server passes its compile pool. */
  compile: (input: CompileInput) => CompileResult | Promise<CompileResult> = async (i) => (await import('./index')).compileNotebook(i)
): Promise<CompileResult & { fromCache: boolean }> {
  const key = cacheKey(input);
  const hit = await lookup(store, key);
  if (hit) return { ok: true, ...hit, inputs: [], fromCache: true };
  const result = await compile(input);
  if (result.ok) {
    const inputs = result.inputs.map(stamp).filter((s): s is InputStamp => s !== undefined);
    const entry: CacheEntry = { version: result.ir.version, warnings: result.warnings, inputs };
    await store.putFile(key, JSON.stringify(entry));
  }
  return { ...result, fromCache: false };
}
