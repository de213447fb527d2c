/**
 * Only values that can cross a process boundary may flow between tasks: data, the
 * built-ins kernel-lib's codecs carry, and classes registered with registerCodec.
 */
import { Diagnostic } from '@cellgraph/schema';
import { code } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, compileErrors, compileOk } from './helpers';

afterAll(cleanup);

/** Declares `decl` in task a and uses `value` in task b; returns the errors. */
function crossing(decl: string, setup = ''): Diagnostic[] {
  return compileErrors([code(setup || '// setup', { role: 'setup' }), code(decl, { task: 'a' }), code('const used = [value];', { task: 'b' })]);
}

function edgeTypes(decl: string, setup = ''): { name: string; type: string }[] {
  const { ir } = compileOk([code(setup || '// setup', { role: 'setup' }), code(decl, { task: 'a' }), code('const used = [value];', { task: 'b' })]);
  return ir.edges.flatMap((e) => e.values);
}

describe('refused across tasks', () => {
  it.each([
    ['an arrow function', 'const value = (x: number) => x + 1;', /a function/],
    ['a function expression', 'const value = function () { return 1; };', /a function/],
    ['a Promise', 'const value = Promise.resolve(1);', /a Promise \(await it in the task that makes it\)/],
    ['an async call result', 'async function load() { return 1; }\nconst value = load();', /a Promise/],
    ['a symbol', 'const value = Symbol("s");', /a symbol/],
    ['a symbol typed as symbol', 'let value: symbol = Symbol("s");', /a symbol/],
    ['an instance of a task class', 'class Model { w = 1; }\nconst value = new Model();', /an instance of class Model with no codec \(registerCodec\(Model, …\) in a setup cell\)/],
    ['an object holding a function', 'const value = { n: 1, cb: () => 1 };', /a function \(property cb\)/],
    ['an array of promises', 'const value = [Promise.resolve(1)];', /a Promise/],
    ['a Map of functions', 'const value = new Map<string, () => void>();', /a function/],
    ['a union with a function', 'let value: number | (() => number) = 1;', /a function/]
  ])('%s', (_label, decl, why) => {
    const errors = crossing(decl);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ severity: 'error', code: 'not-serializable', cell: 2, task: 'b', line: 1, column: 15 });
    expect(errors[0].message).toMatch(why);
    expect(errors[0].message).toMatch(/task a.*task b/);
  });

  it('a function declaration, pointing at the setup cell as the fix', () => {
    const errors = crossing('function value() { return 1; }');
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'not-serializable',
        cell: 2,
        task: 'b',
        message: 'function "value" is declared in task a (cell 1) and used in task b; a function cannot cross a process boundary: move it into a setup cell'
      })
    ]);
  });

  it('a class declared in a task, used by another task', () => {
    expect(crossing('class value { }')).toEqual([expect.objectContaining({ code: 'not-serializable', message: expect.stringMatching(/^class "value" is declared in task a/) })]);
  });

  it('an instance of a setup class without a codec', () => {
    expect(crossing('const value = new Model();', 'class Model { w = 1; }')).toEqual([
      expect.objectContaining({ code: 'not-serializable', message: expect.stringContaining('an instance of class Model with no codec') })
    ]);
  });

  it('a codec registered for another class does not cover this one', () => {
    const setup = 'import { registerCodec } from "@cellgraph/kernel";\nclass A { v = 1; }\nclass B { v = 1; }\nregisterCodec(A, { name: "A", encode: (a) => a.v, decode: () => new A() });';
    expect(crossing('const value = new B();', setup)).toEqual([expect.objectContaining({ code: 'not-serializable', message: expect.stringContaining('class B') })]);
  });

  it('a codec registered in a task cell does not count (other tasks would not see it)', () => {
    const errors = compileErrors([
      code('import { registerCodec } from "@cellgraph/kernel";\nclass Model { w = 1; }', { role: 'setup' }),
      code('registerCodec(Model, { name: "Model", encode: (m) => m.w, decode: () => new Model() });\nconst value = new Model();', { task: 'a' }),
      code('const used = value.w;', { task: 'b' })
    ]);
    expect(errors).toEqual([expect.objectContaining({ code: 'not-serializable' })]);
  });
});

describe('allowed across tasks', () => {
  it('built-ins the codecs carry: Date, RegExp, Map, Set, typed arrays, ArrayBuffer, Buffer', () => {
    const decl = [
      'const d = new Date(0);',
      'const re = /a+/g;',
      'const m = new Map<string, number[]>();',
      'const s = new Set<string>();',
      'const f64 = new Float64Array(4);',
      'const u8 = new Uint8Array(2);',
      'const i32 = new Int32Array(2);',
      'const big = new BigInt64Array(1);',
      'const ab = new ArrayBuffer(8);',
      'const buf = Buffer.from("x");',
      'const value = { d, re, m, s, f64, u8, i32, big, ab, buf };'
    ].join('\n');
    expect(edgeTypes(decl)).toEqual([
      { name: 'value', type: '{ d: Date; re: RegExp; m: Map<string, number[]>; s: Set<string>; f64: Float64Array; u8: Uint8Array; i32: Int32Array; big: BigInt64Array; ab: ArrayBuffer; buf: Buffer; }' }
    ]);
  });

  it('plain data: primitives, arrays, tuples, nested objects, unions, null, bigint, any', () => {
    const decl = 'const value = { n: 1, s: "a", b: true, big: 1n, nil: null, arr: [[1]], tup: [1, "a"] as [number, string], deep: { x: { y: [{ z: 1 }] } }, u: 1 as number | string, anything: JSON.parse("1") };';
    expect(edgeTypes(decl)).toHaveLength(1);
  });

  it('an instance of a class registered with registerCodec in a setup cell', () => {
    const setup = [
      'import { registerCodec } from "@cellgraph/kernel";',
      'class Money { constructor(public cents: number) {} }',
      'registerCodec(Money, { name: "Money", encode: (m) => m.cents, decode: (v) => new Money(v as number) });'
    ].join('\n');
    expect(edgeTypes('const value = new Money(100);', setup)).toEqual([{ name: 'value', type: 'Money' }]);
    expect(edgeTypes('const value = [new Money(1)];\nconst total = new Map<string, Money>();', setup)).toEqual([{ name: 'value', type: 'Money[]' }]);
  });

  it('interfaces describing data', () => {
    expect(edgeTypes('const value: Row[] = [{ id: 1, tags: new Set(["a"]) }];', 'interface Row { id: number; tags: Set<string> }')).toEqual([{ name: 'value', type: 'Row[]' }]);
  });

  it('functions and promises that stay inside their task', () => {
    const { ir } = compileOk([
      code('const f = (x: number) => x * 2;\nconst p = Promise.resolve(2);\nconst value = f(1);', { task: 'a' }),
      code('const used = value + 1;', { task: 'b' })
    ]);
    expect(ir.edges.flatMap((e) => e.values)).toEqual([{ name: 'value', type: 'number' }]);
    // Values that cannot cross are not outputs either.
    expect(ir.tasks[0].outputs.map((o) => o.name)).toEqual(['value']);
  });

  it('an awaited promise', () => {
    expect(edgeTypes('const value = await Promise.resolve([1, 2]);')).toEqual([{ name: 'value', type: 'number[]' }]);
  });
});
