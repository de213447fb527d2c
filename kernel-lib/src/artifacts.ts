import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where an artifact's bytes live in the artifact store. */
export interface BlobRef {
  hash: string;
  size: number;
}

/** A file in a task directory: one blob. */
export interface DirEntry extends BlobRef {
  /** Path relative to the directory, with `/` separators. */
  path: string;
  /** Unix permission bits, so scripts stay executable. */
  mode: number;
}

/**
 * A file that crosses between tasks by content, not by path: the producing task's file is
 * uploaded to the artifact store, and a consuming task gets its own local copy at `path`.
 * In an interactive notebook it is simply a path.
 */
export class FileArtifact {
  /** The file name, kept when the file is materialized elsewhere. */
  readonly name: string;
  /** Where the file is on this machine (for inputs: the materialized copy). */
  path: string;
  /** Set once the file is in (or came from) the artifact store. */
  ref?: BlobRef;

  constructor(filePath: string, ref?: BlobRef, name?: string) {
    this.path = filePath;
    this.name = name ?? path.basename(filePath);
    this.ref = ref;
  }

  /** The file's bytes. */
  read(): Buffer {
    return fs.readFileSync(this.path);
  }

  /** The file's text (UTF-8). */
  readText(): string {
    return fs.readFileSync(this.path, 'utf8');
  }

  /** Rebuilds an artifact from its encoded form when no runner hooks are present. */
  static fromJson(v: unknown): FileArtifact {
    const o = (v ?? {}) as { name?: unknown; path?: unknown; hash?: unknown; size?: unknown };
    const ref = typeof o.hash === 'string' && typeof o.size === 'number' ? { hash: o.hash, size: o.size } : undefined;
    return new FileArtifact(typeof o.path === 'string' ? o.path : '', ref, typeof o.name === 'string' ? o.name : undefined);
  }
}

/** A directory that crosses between tasks by content (every file uploaded, recreated on the other side). */
export class DirArtifact {
  readonly name: string;
  path: string;
  /** Set once the directory's files are in (or came from) the artifact store. */
  files?: DirEntry[];

  constructor(dirPath: string, files?: DirEntry[], name?: string) {
    this.path = dirPath;
    this.name = name ?? path.basename(path.resolve(dirPath));
    this.files = files;
  }

  /** Relative paths of the files in the directory, sorted. */
  list(): string[] {
    return listFiles(this.path);
  }

  /** Rebuilds an artifact from its encoded form when no runner hooks are present. */
  static fromJson(v: unknown): DirArtifact {
    const o = (v ?? {}) as { name?: unknown; path?: unknown };
    return new DirArtifact(typeof o.path === 'string' ? o.path : '', undefined, typeof o.name === 'string' ? o.name : undefined);
  }
}

/** Every regular file under `dir`, relative, `/`-separated, sorted (a deterministic order for hashing). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** Declares files and directories as task outputs: `const model = artifact.file("out/model.json")`. */
export const artifact = {
  /** A file output; the file must exist when the task ends. */
  file(filePath: string): FileArtifact {
    return new FileArtifact(filePath);
  },
  /** A directory output; every file under it is kept. */
  dir(dirPath: string): DirArtifact {
    return new DirArtifact(dirPath);
  }
};
