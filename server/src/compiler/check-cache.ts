import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type ts from 'typescript';
import { z } from 'zod';
import { compilerFingerprint } from './compiler-version';
import { isVirtualPath } from './typescript-host';

/**
 * One TypeScript diagnostic of a task's isolation check, as the checker reported it against
 * the generated task file. Positions are offsets in that file: the same file text gives
 * the same offsets, and the caller maps them to cells with the current notebook's layout.
 */
export const RawDiagnostic = z.object({ code: z.number(), start: z.number(), category: z.number(), message: z.string() });
export type RawDiagnostic = z.infer<typeof RawDiagnostic>;

/**
 * Per-task type-check results, keyed by {@link checkKey}. A key names everything the check
 * read, so an entry is never stale: a miss is only slower.
 */
export interface CheckCache {
  get(key: string): RawDiagnostic[] | undefined;
  set(key: string, diagnostics: RawDiagnostic[]): void;
}

/** Counts lookups, for tests and benchmarks that must see what was checked again. */
export interface CheckCacheStats {
  hits: number;
  misses: number;
}

/**
 * The hash of everything a program read from disk (library and package declarations, local
 * modules), by path, size and modification time, with the compiler's version: installing
 * a package, editing a local module or upgrading cellgraph changes it, and with it every key.
 */
export function environmentKey(program: ts.Program, version = compilerFingerprint()): string {
  const h = createHash('sha256').update(version);
  for (const f of program.getSourceFiles()) {
    if (isVirtualPath(f.fileName)) continue;
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(f.fileName);
    } catch {
      stat = undefined;
    }
    h.update(`\0${f.fileName}\0${stat?.size ?? -1}\0${stat?.mtimeMs ?? -1}`);
  }
  return h.digest('hex');
}

/**
 * The key of one task's check: the environment and the generated task file (its name holds
 * the notebook's folder, which decides module resolution; its text holds the setup code,
 * the hoisted imports and types, each input's declared type, and the task's own cells).
 */
export function checkKey(environment: string, fileName: string, text: string): string {
  return createHash('sha256').update(environment).update('\0').update(fileName).update('\0').update(text).digest('hex');
}

/** An in-process cache (a compile worker's, a server's), least recently used entries dropped first. */
export class MemoryCheckCache implements CheckCache {
  readonly stats: CheckCacheStats = { hits: 0, misses: 0 };
  private readonly entries = new Map<string, RawDiagnostic[]>();

  constructor(private readonly maxEntries = 20_000) {}

  get(key: string): RawDiagnostic[] | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, hit);
    this.stats.hits++;
    return hit;
  }

  set(key: string, diagnostics: RawDiagnostic[]): void {
    this.entries.delete(key);
    this.entries.set(key, diagnostics);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

const Entry = z.array(RawDiagnostic);

/**
 * A cache that survives processes, for the CLI: one small JSON file per key under
 * `dir/<compiler version>/`, written atomically (temporary file, then rename), so
 * concurrent CLI processes never read half an entry. An unreadable entry is a miss.
 * Keys already include the compiler version; the folder only lets old versions' entries
 * be deleted as a whole.
 */
export class DiskCheckCache implements CheckCache {
  readonly stats: CheckCacheStats = { hits: 0, misses: 0 };
  private readonly dir: string;

  constructor(root: string, version = compilerFingerprint()) {
    this.dir = path.join(root, version.slice(0, 16));
  }

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  get(key: string): RawDiagnostic[] | undefined {
    let parsed: RawDiagnostic[] | undefined;
    try {
      const read = Entry.safeParse(JSON.parse(fs.readFileSync(this.file(key), 'utf8')));
      parsed = read.success ? read.data : undefined;
    } catch {
      parsed = undefined; // Absent or damaged: only a miss.
    }
    if (parsed === undefined) this.stats.misses++;
    else this.stats.hits++;
    return parsed;
  }

  set(key: string, diagnostics: RawDiagnostic[]): void {
    const file = this.file(key);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify(diagnostics));
      fs.renameSync(tmp, file);
    } catch {
      // A cache that cannot be written (read-only home, full disk) only costs speed.
      fs.rmSync(tmp, { force: true });
    }
  }
}
