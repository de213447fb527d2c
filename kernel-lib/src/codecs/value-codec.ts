import { createHash } from 'node:crypto';
import { DirArtifact, FileArtifact } from '../artifacts';

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** How a user class crosses a process boundary: a name and a JSON form. */
export interface ClassCodec<T> {
  /** Stable name written into encoded values; must be unique across registered codecs. */
  name: string;
  encode(value: T): JsonValue;
  decode(json: JsonValue): T;
}

/** A value that cannot be encoded (or decoded), with the path to the offending part. */
export class CodecError extends Error {
  override name = 'CodecError';
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

/** Marks tagged nodes in the encoded JSON; plain objects using this key are escaped. */
const TAG = '$cg';

type Constructor = abstract new (...args: never[]) => unknown;

interface Registered {
  cls: Constructor;
  codec: ClassCodec<unknown>;
}

const REGISTRY_KEY = Symbol.for('cellgraph.codecs');
/** Shared through globalThis so that two loaded copies of this package agree. */
function registry(): Map<string, Registered> {
  const g = globalThis as { [REGISTRY_KEY]?: Map<string, Registered> };
  g[REGISTRY_KEY] ??= new Map();
  return g[REGISTRY_KEY];
}

/**
 * Lets instances of a user class cross between tasks. Call it in a setup cell, so every
 * task (and the compiler, which looks for it) sees the codec.
 */
export function registerCodec<T>(cls: abstract new (...args: never[]) => T, codec: ClassCodec<T>): void {
  const existing = registry().get(codec.name);
  if (existing && existing.cls !== cls) throw new CodecError(codec.name, `a different class already registered the codec name "${codec.name}"`);
  registry().set(codec.name, { cls, codec: codec as ClassCodec<unknown> });
}

const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

function typedArrayName(v: object): TypedArrayName | undefined {
  for (const name of Object.keys(TYPED_ARRAYS) as TypedArrayName[]) if (v instanceof TYPED_ARRAYS[name]) return name;
  return undefined;
}

/**
 * Sets an own, enumerable property. Plain assignment of a "__proto__" key (which JSON.parse
 * makes as data) would set the object's prototype instead, silently dropping the data.
 */
function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

function tagged(kind: string, v: JsonValue): JsonValue {
  return { [TAG]: kind, v };
}

/** Hooks for artifacts: the runner uploads files before encoding and materializes them after decoding. */
export interface ArtifactHooks {
  fileRef(a: FileArtifact): JsonValue;
  dirRef(a: DirArtifact): JsonValue;
}

function toJson(value: unknown, path: string, seen: Set<object>, hooks?: ArtifactHooks): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return tagged('num', Object.is(value, -0) ? '-0' : String(value));
    case 'undefined':
      return tagged('undef', null);
    case 'bigint':
      return tagged('bigint', value.toString());
    case 'function':
      throw new CodecError(path, 'a function cannot cross a process boundary; compute a value, or move the function into a setup cell');
    case 'symbol':
      throw new CodecError(path, 'a symbol cannot cross a process boundary');
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) throw new CodecError(path, 'circular reference: values crossing tasks must be trees');
  seen.add(obj);
  try {
    return objectToJson(obj, path, seen, hooks);
  } finally {
    seen.delete(obj);
  }
}

function objectToJson(obj: object, path: string, seen: Set<object>, hooks?: ArtifactHooks): JsonValue {
  if (Array.isArray(obj)) {
    const out: JsonValue[] = [];
    for (let i = 0; i < obj.length; i++) out.push(toJson(obj[i], `${path}[${i}]`, seen, hooks));
    return out;
  }
  if (obj instanceof Date) return tagged('Date', Number.isNaN(obj.getTime()) ? null : obj.toISOString());
  if (obj instanceof Map) {
    return tagged('Map', [...obj.entries()].map(([k, v], i) => [toJson(k, `${path}<key ${i}>`, seen, hooks), toJson(v, `${path}.get(${String(k)})`, seen, hooks)]));
  }
  if (obj instanceof Set) return tagged('Set', [...obj.values()].map((v, i) => toJson(v, `${path}<item ${i}>`, seen, hooks)));
  if (Buffer.isBuffer(obj)) return tagged('Buffer', obj.toString('base64'));
  const ta = typedArrayName(obj);
  if (ta !== undefined) {
    const view = obj as ArrayBufferView;
    return tagged(ta, Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64'));
  }
  if (obj instanceof ArrayBuffer) return tagged('ArrayBuffer', Buffer.from(obj).toString('base64'));
  if (obj instanceof RegExp) return tagged('RegExp', [obj.source, obj.flags]);
  if (obj instanceof FileArtifact) return tagged('file', hooks ? hooks.fileRef(obj) : { name: obj.name, path: obj.path });
  if (obj instanceof DirArtifact) return tagged('dir', hooks ? hooks.dirRef(obj) : { name: obj.name, path: obj.path });
  if (obj instanceof Promise) throw new CodecError(path, 'a Promise cannot cross a process boundary; await it in the task that makes it');
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (proto === Object.prototype || proto === null) {
    const out: { [k: string]: JsonValue } = {};
    for (const key of Object.keys(obj)) setKey(out, key, toJson((obj as Record<string, unknown>)[key], `${path}.${key}`, seen, hooks));
    return Object.prototype.hasOwnProperty.call(obj, TAG) ? tagged('obj', out) : out;
  }
  for (const [name, r] of registry()) {
    if (obj instanceof r.cls) return { [TAG]: 'class', name, v: toJson(userCodec(path, name, 'encode', () => r.codec.encode(obj)), `${path}<${name}>`, seen, hooks) };
  }
  const className = (proto as { constructor?: { name?: string } }).constructor?.name ?? 'anonymous';
  throw new CodecError(path, `an instance of class ${className} has no codec; call registerCodec(${className}, { name, encode, decode }) in a setup cell`);
}

/** Runs a user codec's encode or decode; what it throws becomes a CodecError at `path`, so a task fails cleanly. */
function userCodec<T>(path: string, name: string, op: 'encode' | 'decode', fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CodecError) throw e;
    throw new CodecError(path, `the codec "${name}" failed to ${op}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The JSON form a registered codec gives `obj` (which may hold artifacts the runner must
 * upload), or undefined when no codec applies or the codec fails (encoding reports that).
 */
export function registeredForm(obj: object): { form: unknown } | undefined {
  for (const [, r] of registry()) {
    if (obj instanceof r.cls) {
      try {
        return { form: r.codec.encode(obj) };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Hooks for decoding artifacts: the runner turns references into local files. */
export interface ArtifactDecodeHooks {
  file(ref: JsonValue): FileArtifact;
  dir(ref: JsonValue): DirArtifact;
}

function fromJson(node: JsonValue, path: string, hooks?: ArtifactDecodeHooks): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((x, i) => fromJson(x, `${path}[${i}]`, hooks));
  if (!(TAG in node)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) setKey(out, k, fromJson(v, `${path}.${k}`, hooks));
    return out;
  }
  const kind = node[TAG];
  const v = node.v;
  const str = (): string => {
    if (typeof v !== 'string') throw new CodecError(path, `malformed ${String(kind)} value`);
    return v;
  };
  const list = (): JsonValue[] => {
    if (!Array.isArray(v)) throw new CodecError(path, `malformed ${String(kind)} value`);
    return v;
  };
  switch (kind) {
    case 'num':
      return str() === '-0' ? -0 : Number(str());
    case 'undef':
      return undefined;
    case 'bigint':
      return BigInt(str());
    case 'Date':
      return new Date(v === null ? NaN : str());
    case 'Map':
      return new Map(
        list().map((entry, i) => {
          if (!Array.isArray(entry) || entry.length !== 2) throw new CodecError(`${path}<entry ${i}>`, 'malformed Map entry');
          return [fromJson(entry[0], path, hooks), fromJson(entry[1], path, hooks)];
        })
      );
    case 'Set':
      return new Set(list().map((x, i) => fromJson(x, `${path}<item ${i}>`, hooks)));
    case 'Buffer':
      return Buffer.from(str(), 'base64');
    case 'ArrayBuffer': {
      const b = Buffer.from(str(), 'base64');
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    }
    case 'RegExp': {
      const [source, flags] = list();
      return new RegExp(String(source), String(flags));
    }
    case 'obj': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CodecError(path, 'malformed escaped object');
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) setKey(out, k, fromJson(x, `${path}.${k}`, hooks));
      return out;
    }
    case 'file':
      return hooks ? hooks.file(v) : FileArtifact.fromJson(v);
    case 'dir':
      return hooks ? hooks.dir(v) : DirArtifact.fromJson(v);
    case 'class': {
      const name = String(node.name);
      const r = registry().get(name);
      if (r === undefined) throw new CodecError(path, `no codec named "${name}" is registered; register it in a setup cell`);
      const json = fromJson(v, path, hooks) as JsonValue;
      return userCodec(path, name, 'decode', () => r.codec.decode(json));
    }
    default:
      if (typeof kind === 'string' && kind in TYPED_ARRAYS) {
        const b = Buffer.from(str(), 'base64');
        const Ctor = TYPED_ARRAYS[kind as TypedArrayName];
        const copy = new Uint8Array(b).buffer;
        return new Ctor(copy);
      }
      throw new CodecError(path, `unknown encoded kind ${JSON.stringify(kind)}`);
  }
}

/**
 * Encodes a value to bytes: JSON, with tagged nodes for what JSON cannot carry (Date, Map,
 * Set, typed arrays, Buffers, bigint, undefined, NaN/±Infinity/-0, RegExp, artifacts and
 * registered classes). Deterministic: the same value gives the same bytes, so outputs can
 * be content-addressed.
 */
export function encodeValue(value: unknown, options: { path?: string; hooks?: ArtifactHooks } = {}): Buffer {
  return Buffer.from(JSON.stringify(toJson(value, options.path ?? 'value', new Set(), options.hooks)), 'utf8');
}

/** Decodes bytes made by {@link encodeValue}. */
export function decodeValue(bytes: Buffer | Uint8Array | string, options: { path?: string; hooks?: ArtifactDecodeHooks } = {}): unknown {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new CodecError(options.path ?? 'value', `not an encoded value (${(err as Error).message})`);
  }
  return fromJson(json, options.path ?? 'value', options.hooks);
}

/** `sha256:<hex>` of some bytes, the content address of an encoded value. */
export function contentHash(bytes: Buffer | Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
