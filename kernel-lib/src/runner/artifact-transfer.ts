import * as fs from 'node:fs';
import * as path from 'node:path';
import { BlobRef, DirArtifact, DirEntry, FileArtifact, listFiles } from '../artifacts';
import { ArtifactDecodeHooks, ArtifactHooks, CodecError, JsonValue, registeredForm } from '../codecs/value-codec';
import type { ArtifactIO } from './types';

/** Every file and directory artifact inside a value (arrays, plain objects, Maps, Sets, registered classes' encoded forms). */
function findArtifacts(value: unknown, found: (FileArtifact | DirArtifact)[], seen = new Set<object>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (value instanceof FileArtifact || value instanceof DirArtifact) {
    found.push(value);
    return;
  }
  const children = Array.isArray(value)
    ? value
    : value instanceof Map
      ? [...value.keys(), ...value.values()]
      : value instanceof Set
        ? [...value]
        : Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null
          ? Object.values(value)
          : [registeredForm(value)?.form];
  for (const child of children) findArtifacts(child, found, seen);
}

/**
 * Uploads the files behind every artifact in `value` and returns encoding hooks that
 * write references to them. A missing file fails here, naming the output.
 */
export async function uploadArtifacts(value: unknown, io: ArtifactIO, outputName: string, workDir: string): Promise<ArtifactHooks> {
  const found: (FileArtifact | DirArtifact)[] = [];
  findArtifacts(value, found);
  const refs = new Map<FileArtifact | DirArtifact, JsonValue>();
  for (const a of found) {
    const abs = path.resolve(workDir, a.path);
    if (a instanceof FileArtifact) {
      if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) throw new CodecError(`outputs.${outputName}`, `artifact file ${a.path} does not exist`);
      const ref = await io.putBlob(fs.readFileSync(abs));
      a.ref = ref;
      refs.set(a, { name: a.name, hash: ref.hash, size: ref.size });
    } else {
      if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new CodecError(`outputs.${outputName}`, `artifact directory ${a.path} does not exist`);
      const files: DirEntry[] = [];
      for (const rel of listFiles(abs)) {
        const file = path.join(abs, rel);
        const ref = await io.putBlob(fs.readFileSync(file));
        files.push({ path: rel, hash: ref.hash, size: ref.size, mode: fs.statSync(file).mode & 0o777 });
      }
      a.files = files;
      refs.set(a, { name: a.name, files: files.map((f) => ({ ...f })) });
    }
  }
  return {
    fileRef: (a) => refs.get(a) ?? { name: a.name, path: a.path },
    dirRef: (a) => refs.get(a) ?? { name: a.name, path: a.path }
  };
}

/**
 * Decoding hooks that collect artifact references; `materialize` then downloads them into
 * `targetDir` and points each artifact's `path` at its local copy.
 */
export function artifactCollector(): { hooks: ArtifactDecodeHooks; materialize(io: ArtifactIO, targetDir: string): Promise<void> } {
  const pending: (FileArtifact | DirArtifact)[] = [];
  const hooks: ArtifactDecodeHooks = {
    file(v) {
      const a = FileArtifact.fromJson(v);
      pending.push(a);
      return a;
    },
    dir(v) {
      const o = (v ?? {}) as { name?: unknown; files?: unknown };
      const files = Array.isArray(o.files) ? (o.files as DirEntry[]) : [];
      const a = new DirArtifact('', files, typeof o.name === 'string' ? o.name : 'dir');
      pending.push(a);
      return a;
    }
  };
  return {
    hooks,
    async materialize(io, targetDir) {
      for (const [i, a] of pending.entries()) {
        const dir = path.join(targetDir, `artifact-${i}`);
        fs.mkdirSync(dir, { recursive: true });
        if (a instanceof FileArtifact) {
          if (!a.ref) continue;
          a.path = path.join(dir, safeName(a.name));
          fs.writeFileSync(a.path, await io.getBlob(a.ref));
        } else {
          a.path = path.join(dir, safeName(a.name));
          for (const f of a.files ?? []) {
            const target = path.resolve(a.path, f.path);
            if (!target.startsWith(a.path + path.sep)) throw new CodecError('inputs', `artifact entry ${JSON.stringify(f.path)} escapes its directory`);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, await io.getBlob(f as BlobRef), { mode: f.mode });
          }
          fs.mkdirSync(a.path, { recursive: true });
        }
      }
    }
  };
}

/** A file name from a stored reference, stripped of anything that could leave the target directory. */
function safeName(name: string): string {
  const base = path.basename(name);
  return base === '' || base === '.' || base === '..' ? 'artifact' : base;
}
