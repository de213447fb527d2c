/**
 * A tar writer whose output depends only on the entries' paths, contents and kinds: entries
 * sorted by path, mtime 0, uid/gid 0, no user/group names, fixed modes (0755 for
 * directories and executables, 0644 otherwise). Two builds of the same files give the same
 * bytes, so the same layer digest, so nothing to upload again (what ko and Jib do).
 */

/** One entry of a layer: a regular file, a directory or a symlink, at an absolute image path. */
export type TarEntry =
  | { kind: 'file'; path: string; data: Buffer; executable?: boolean }
  | { kind: 'dir'; path: string }
  | { kind: 'symlink'; path: string; target: string };

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, type: string, size: number, mode: number, linkname = '', prefix = ''): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime
  h.write('        ', 148, 'ascii'); // checksum placeholder: spaces while summing
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest, 0);
}

/** A PAX extended header carrying what ustar cannot: long paths and link targets. */
function paxHeader(records: Record<string, string>): Buffer[] {
  const body = Object.entries(records)
    .map(([key, value]) => {
      const text = ` ${key}=${value}\n`;
      // The length prefix counts itself: settle it by iterating until it stops growing.
      let len = Buffer.byteLength(text) + 1;
      while (String(len).length + Buffer.byteLength(text) !== len) len = String(len).length + Buffer.byteLength(text);
      return `${len}${text}`;
    })
    .join('');
  const data = Buffer.from(body, 'utf8');
  return [header('PaxHeader', 'x', data.length, 0o644), data, padding(data.length)];
}

/** Splits a path into ustar's prefix (155) + name (100), or undefined when it cannot. */
function ustarName(p: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(p) <= 100) return { name: p, prefix: '' };
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { name, prefix };
  }
  return undefined;
}

/** Image paths are absolute (`/app/x`); tar stores them relative (`app/x`, dirs with a slash). */
function tarPath(entry: TarEntry): string {
  const rel = entry.path.replace(/^\/+/, '');
  if (rel.length === 0 || rel.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new Error(`internal: bad layer path ${JSON.stringify(entry.path)}`);
  }
  return entry.kind === 'dir' ? `${rel}/` : rel;
}

/**
 * The tar archive (uncompressed) of the given entries. Parent directories are added when
 * missing, so extracting never depends on the runtime creating them with its own modes.
 */
export function deterministicTar(entries: TarEntry[]): Buffer {
  const byPath = new Map<string, TarEntry>();
  for (const e of entries) {
    const parts = e.path.replace(/^\/+/, '').split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = '/' + parts.slice(0, i).join('/');
      if (!byPath.has(dir)) byPath.set(dir, { kind: 'dir', path: dir });
    }
    byPath.set('/' + parts.join('/'), e);
  }
  const sorted = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const chunks: Buffer[] = [];
  for (const e of sorted) {
    const p = tarPath(e);
    const size = e.kind === 'file' ? e.data.length : 0;
    const mode = e.kind === 'dir' || (e.kind === 'file' && e.executable) ? 0o755 : e.kind === 'symlink' ? 0o777 : 0o644;
    const type = e.kind === 'file' ? '0' : e.kind === 'dir' ? '5' : '2';
    const link = e.kind === 'symlink' ? e.target : '';
    const split = ustarName(p);
    const pax: Record<string, string> = {};
    if (!split) pax.path = p;
    if (Buffer.byteLength(link) > 100) pax.linkpath = link;
    if (Object.keys(pax).length > 0) chunks.push(...paxHeader(pax));
    const names = split ?? { name: p.slice(0, 100), prefix: '' };
    chunks.push(header(names.name, type, size, mode, Buffer.byteLength(link) > 100 ? '' : link, names.prefix));
    if (e.kind === 'file') chunks.push(e.data, padding(size));
  }
  chunks.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(chunks);
}
