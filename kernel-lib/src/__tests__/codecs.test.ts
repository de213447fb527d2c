/**
 * The value codec: what crosses between tasks. Values must come back as the same kind of
 * value (not a look-alike), refusals must name where the offending part is, and equal
 * values must hash alike so outputs can be content-addressed.
 */
import { createHash } from 'node:crypto';
import { CodecError, FileArtifact, contentHash, decodeValue, encodeValue, registerCodec } from '../index';

const roundTrip = <T>(value: T): T => decodeValue(encodeValue(value)) as T;

function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError);
    return e as CodecError;
  }
  throw new Error('expected a CodecError, nothing was thrown');
}

describe('round trips', () => {
  it('keeps JSON values as they are', () => {
    const v = { s: 'text', n: 1.5, t: true, f: false, z: null, list: [1, 'two', [3]], nested: { deep: { x: 0 } } };
    expect(roundTrip(v)).toStrictEqual(v);
    expect(JSON.parse(encodeValue(v).toString('utf8'))).toStrictEqual(v);
  });

  it('restores a Date as a Date with the same instant, and an invalid Date as invalid', () => {
    const d = new Date('2024-02-29T12:34:56.789Z');
    const back = roundTrip(d);
    expect(back).toBeInstanceOf(Date);
    expect(back.getTime()).toBe(d.getTime());
    expect(Number.isNaN(roundTrip(new Date(NaN)).getTime())).toBe(true);
  });

  it('restores a Map with non-string keys, in insertion order', () => {
    const objKey = { id: 1 };
    const m = new Map<unknown, unknown>([
      [3, 'three'],
      [1, 'one'],
      [true, 'yes'],
      [null, 'nothing'],
      [10n, 'big'],
      [objKey, [1, 2]],
      ['3', 'string three']
    ]);
    const back = roundTrip(m);
    expect(back).toBeInstanceOf(Map);
    expect([...back.keys()]).toStrictEqual([3, 1, true, null, 10n, { id: 1 }, '3']);
    expect(back.get(3)).toBe('three');
    expect(back.get('3')).toBe('string three');
    expect(back.get(10n)).toBe('big');
  });

  it('restores a Set, in insertion order, with mixed members', () => {
    const s = new Set<unknown>(['b', 'a', 2, undefined, new Date(0)]);
    const back = roundTrip(s);
    expect(back).toBeInstanceOf(Set);
    expect([...back]).toStrictEqual(['b', 'a', 2, undefined, new Date(0)]);
  });

  const typedArrays: [string, ArrayBufferView][] = [
    ['Int8Array', new Int8Array([-128, -1, 0, 1, 127])],
    ['Uint8Array', new Uint8Array([0, 1, 254, 255])],
    ['Uint8ClampedArray', new Uint8ClampedArray([0, 128, 255])],
    ['Int16Array', new Int16Array([-32768, -1, 0, 32767])],
    ['Uint16Array', new Uint16Array([0, 1, 65535])],
    ['Int32Array', new Int32Array([-2147483648, -1, 0, 2147483647])],
    ['Uint32Array', new Uint32Array([0, 1, 4294967295])],
    ['Float32Array', new Float32Array([0.5, -1.25, Infinity, NaN])],
    ['Float64Array', new Float64Array([Math.PI, -0, Number.MAX_VALUE, Number.MIN_VALUE, NaN, -Infinity])],
    ['BigInt64Array', new BigInt64Array([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n])],
    ['BigUint64Array', new BigUint64Array([0n, 1n, 2n ** 64n - 1n])]
  ];

  it.each(typedArrays)('restores a %s as the same kind with the same elements', (name, arr) => {
    const back = roundTrip(arr);
    expect(back.constructor.name).toBe(name);
    expect(back).toStrictEqual(arr);
    expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength)).toStrictEqual(Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
  });

  it('encodes only the viewed part of a typed array that is a view into a larger buffer', () => {
    const whole = new Float64Array([1, 2, 3, 4, 5]);
    const view = whole.subarray(1, 3);
    const back = roundTrip(view);
    expect(back).toBeInstanceOf(Float64Array);
    expect([...back]).toStrictEqual([2, 3]);
    expect(back.byteOffset).toBe(0);
    expect(back.buffer.byteLength).toBe(16);
  });

  it('restores a Buffer as a Buffer (not a bare Uint8Array), and an ArrayBuffer as an ArrayBuffer', () => {
    const b = Buffer.from([0, 1, 2, 250, 255]);
    const back = roundTrip(b);
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back.equals(b)).toBe(true);
    const ab = new Uint8Array([9, 8, 7]).buffer;
    const abBack = roundTrip(ab);
    expect(abBack).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(abBack)]).toStrictEqual([9, 8, 7]);
  });

  it('restores bigints, including ones beyond the double range', () => {
    for (const n of [0n, -1n, 2n ** 64n, -(10n ** 40n)]) expect(roundTrip(n)).toBe(n);
  });

  it('keeps undefined inside objects (the key stays present) and arrays (the slot stays)', () => {
    const back = roundTrip({ a: undefined, b: [1, undefined, 3] });
    expect(Object.keys(back)).toStrictEqual(['a', 'b']);
    expect('a' in back).toBe(true);
    expect(back.a).toBeUndefined();
    expect(back.b).toHaveLength(3);
    expect(back.b[1]).toBeUndefined();
    expect(roundTrip(undefined)).toBeUndefined();
  });

  it('restores NaN, -0, Infinity and -Infinity exactly', () => {
    const back = roundTrip([NaN, -0, 0, Infinity, -Infinity]);
    expect(Number.isNaN(back[0])).toBe(true);
    expect(Object.is(back[1], -0)).toBe(true);
    expect(Object.is(back[2], 0)).toBe(true);
    expect(back[3]).toBe(Infinity);
    expect(back[4]).toBe(-Infinity);
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
  });

  it('restores a RegExp with its source and flags', () => {
    const r = /^a(b+)\/c$/gimsuy;
    const back = roundTrip(r);
    expect(back).toBeInstanceOf(RegExp);
    expect(back.source).toBe(r.source);
    expect(back.flags).toBe(r.flags);
    expect(roundTrip(/x/).test('xyz')).toBe(true);
  });

  it('restores nested combinations', () => {
    const value = {
      when: new Date(1_700_000_000_000),
      index: new Map<string | number, unknown>([
        ['rows', [new Set([1n, 2n]), { pattern: /a.b/i, missing: undefined }]],
        [7, new Map([[new Date(0), new Float32Array([1.5])]])]
      ]),
      blobs: [Buffer.from('hi'), new Uint16Array([1, 2])],
      special: { nan: NaN, negZero: -0, inf: [Infinity] }
    };
    const back = roundTrip(value);
    expect(back).toStrictEqual(value);
    const inner = back.index.get(7) as Map<Date, Float32Array>;
    const [[k, v]] = [...inner];
    expect(k).toBeInstanceOf(Date);
    expect(v).toBeInstanceOf(Float32Array);
    expect(Object.is(back.special.negZero, -0)).toBe(true);
  });

  it('copies a value shared in two places (a DAG is not a cycle)', () => {
    const shared = { n: 1 };
    const back = roundTrip({ a: shared, b: [shared] });
    expect(back).toStrictEqual({ a: { n: 1 }, b: [{ n: 1 }] });
  });

  it('treats null-prototype objects as plain objects', () => {
    const o = Object.assign(Object.create(null) as Record<string, unknown>, { x: 1 });
    expect(roundTrip(o)).toStrictEqual({ x: 1 });
  });

  it('round-trips file artifacts to file artifacts (without runner hooks, as paths)', () => {
    const back = roundTrip({ model: new FileArtifact('/tmp/out/model.json') });
    expect(back.model).toBeInstanceOf(FileArtifact);
    expect(back.model.name).toBe('model.json');
    expect(back.model.path).toBe('/tmp/out/model.json');
  });
});

describe('user classes', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number
    ) {}
    norm(): number {
      return Math.hypot(this.x, this.y);
    }
  }
  class Labeled extends Point {}
  class Segment {
    constructor(
      readonly from: Point,
      readonly to: Point,
      readonly at: Date
    ) {}
  }

  beforeAll(() => {
    registerCodec(Point, {
      name: 'test.Point',
      encode: (p) => ({ x: p.x, y: p.y }),
      decode: (j) => {
        const o = j as { x: number; y: number };
        return new Point(o.x, o.y);
      }
    });
    registerCodec(Segment, {
      name: 'test.Segment',
      // The JSON form may itself hold values JSON cannot carry: they are encoded too.
      encode: (s) => ({ from: s.from, to: s.to, at: s.at }) as never,
      decode: (j) => {
        const o = j as unknown as { from: Point; to: Point; at: Date };
        return new Segment(o.from, o.to, o.at);
      }
    });
  });

  it('round-trips a registered class to an instance of that class', () => {
    const back = roundTrip(new Point(3, 4));
    expect(back).toBeInstanceOf(Point);
    expect(back.norm()).toBe(5);
  });

  it('round-trips registered classes nested in containers and in each other', () => {
    const value = { points: [new Point(1, 2)], byName: new Map([['origin', new Point(0, 0)]]), seg: new Segment(new Point(0, 0), new Point(1, 1), new Date(5)) };
    const back = roundTrip(value);
    expect(back.points[0]).toBeInstanceOf(Point);
    expect(back.byName.get('origin')).toBeInstanceOf(Point);
    expect(back.seg).toBeInstanceOf(Segment);
    expect(back.seg.to).toBeInstanceOf(Point);
    expect(back.seg.at).toBeInstanceOf(Date);
    expect(back.seg.at.getTime()).toBe(5);
  });

  it('encodes a subclass instance with its registered base class codec', () => {
    expect(roundTrip(new Labeled(1, 1))).toBeInstanceOf(Point);
  });

  it('refuses a second, different class under a name already taken; re-registering the same class is fine', () => {
    class Other {}
    expect(codecError(() => registerCodec(Other, { name: 'test.Point', encode: () => null, decode: () => new Other() })).message).toContain('test.Point');
    expect(() => registerCodec(Point, { name: 'test.Point', encode: (p) => ({ x: p.x, y: p.y }), decode: () => new Point(0, 0) })).not.toThrow();
  });

  it("turns a user codec's own failure into a CodecError at the value's path", () => {
    class Fragile {
      constructor(readonly ok: boolean) {}
    }
    registerCodec(Fragile, {
      name: 'test.Fragile',
      encode: (f) => {
        if (!f.ok) throw new Error('cannot encode a broken Fragile');
        return { ok: true };
      },
      decode: () => {
        throw new Error('cannot decode');
      }
    });
    const enc = codecError(() => encodeValue({ items: [new Fragile(false)] }));
    expect(enc.path).toBe('value.items[0]');
    expect(enc.message).toContain('test.Fragile');
    expect(enc.message).toContain('cannot encode a broken Fragile');
    const dec = codecError(() => decodeValue(encodeValue({ f: new Fragile(true) })));
    expect(dec.path).toBe('value.f');
    expect(dec.message).toContain('cannot decode');
  });

  it('fails to decode a class whose codec is not registered, naming the codec', () => {
    const bytes = JSON.stringify({ $cg: 'class', name: 'test.Unknown', v: {} });
    const err = codecError(() => decodeValue(bytes, { path: 'inputs.thing' }));
    expect(err.path).toBe('inputs.thing');
    expect(err.message).toContain('test.Unknown');
  });
});

describe('refusals name the offending location', () => {
  class Unregistered {
    a = 1;
  }

  it('an unregistered class instance', () => {
    const err = codecError(() => encodeValue({ a: [1, 2, new Unregistered()] }));
    expect(err.path).toBe('value.a[2]');
    expect(err.message).toContain('Unregistered');
    expect(err.message).toContain('registerCodec');
  });

  it('a function', () => {
    const err = codecError(() => encodeValue({ cfg: { transform: (x: number) => x } }));
    expect(err.path).toBe('value.cfg.transform');
    expect(err.message).toMatch(/function/);
  });

  it('a symbol', () => {
    expect(codecError(() => encodeValue([0, [Symbol('s')]])).path).toBe('value[1][0]');
  });

  it('a Promise', () => {
    const p = Promise.resolve(1);
    const err = codecError(() => encodeValue({ pending: p }));
    expect(err.path).toBe('value.pending');
    expect(err.message).toMatch(/Promise/);
  });

  it('inside Maps and Sets', () => {
    expect(codecError(() => encodeValue({ m: new Map([['k', () => 1]]) })).path).toBe('value.m.get(k)');
    expect(codecError(() => encodeValue({ s: new Set([1, Symbol('x')]) })).path).toBe('value.s<item 1>');
  });

  it('under the caller-given root path', () => {
    expect(codecError(() => encodeValue({ f() {} }, { path: 'outputs.model' })).path).toBe('outputs.model.f');
  });

  it('a circular reference', () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    const err = codecError(() => encodeValue(o));
    expect(err.path).toBe('value.self');
    expect(err.message).toMatch(/circular/);
  });

  it('bytes that are not an encoded value, or an unknown tag', () => {
    expect(codecError(() => decodeValue('{not json', { path: 'inputs.x' })).path).toBe('inputs.x');
    expect(codecError(() => decodeValue(JSON.stringify({ $cg: 'Nope', v: 1 }))).message).toContain('Nope');
    expect(codecError(() => decodeValue(JSON.stringify({ $cg: 'Map', v: 'not a list' }))).message).toMatch(/malformed/);
  });
});

describe('plain objects that look like tagged values', () => {
  const lookalikes: [string, unknown][] = [
    ['a Date tag', { $cg: 'Date', v: '2020-01-01T00:00:00.000Z' }],
    ['a num tag', { $cg: 'num', v: 'NaN' }],
    ['an undef tag', { $cg: 'undef', v: null }],
    ['a class tag', { $cg: 'class', name: 'test.Point', v: { x: 1, y: 2 } }],
    ['an escaped-object tag', { $cg: 'obj', v: { a: 1 } }],
    ['a bare tag key', { $cg: 42 }],
    ['an unknown tag', { $cg: 'whatever', other: [1] }]
  ];

  it.each(lookalikes)('%s stays a plain object', (_what, value) => {
    const back = roundTrip(value);
    expect(back).toStrictEqual(value);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('stays a plain object when nested, with tagged values inside it', () => {
    const value = { rows: [{ $cg: 'Set', v: [1], when: new Date(3), inner: { $cg: 'Map', v: [] } }], m: new Map([[{ $cg: 'bigint', v: '1' }, 1]]) };
    const back = roundTrip(value);
    expect(back).toStrictEqual(value);
    expect(back.rows[0].when).toBeInstanceOf(Date);
  });

  it('keeps an own "__proto__" key (as JSON.parse makes) as data, not as a prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const back = roundTrip(value);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect((back as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(back)).toStrictEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toStrictEqual({ polluted: true });
  });
});

describe('contentHash', () => {
  const build = () => ({ rows: [1, 2, 3], when: new Date(0), tags: new Set(['a', 'b']), m: new Map([[1, 'x']]), n: NaN });

  it('is sha256 of the bytes, as `sha256:<hex>`, for Buffers, typed arrays and strings alike', () => {
    const bytes = encodeValue(build());
    const hex = createHash('sha256').update(bytes).digest('hex');
    expect(contentHash(bytes)).toBe(`sha256:${hex}`);
    expect(contentHash(new Uint8Array(bytes))).toBe(`sha256:${hex}`);
    expect(contentHash(bytes.toString('utf8'))).toBe(`sha256:${hex}`);
    expect(contentHash(bytes)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('is the same for equal values built separately (encoding is deterministic)', () => {
    expect(encodeValue(build()).equals(encodeValue(build()))).toBe(true);
    expect(contentHash(encodeValue(build()))).toBe(contentHash(encodeValue(build())));
    expect(contentHash(encodeValue(roundTrip(build())))).toBe(contentHash(encodeValue(build())));
  });

  it('differs for different values, including ones JSON alone would conflate', () => {
    const hash = (v: unknown) => contentHash(encodeValue(v));
    const distinct = [{ a: 1 }, { a: 2 }, [1], new Set([1]), null, undefined, 0, -0, NaN, '1', 1, 1n, new Date(0), '1970-01-01T00:00:00.000Z', Buffer.from([1]), new Uint8Array([1]), new Int8Array([1]), {}, []];
    const hashes = distinct.map(hash);
    expect(new Set(hashes).size).toBe(distinct.length);
  });
});
