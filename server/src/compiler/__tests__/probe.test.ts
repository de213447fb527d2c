import { code, md } from '../../test-support/notebooks';
import { cleanup, compile } from './helpers';
afterAll(cleanup);
const show = (label: string, r: any) => console.log(label + '\n' + JSON.stringify(r.ok ? { warnings: r.warnings, edges: r.ir.edges } : r.diagnostics.map((d: any) => ({ ...d, notebook: undefined })), null, 1));
it('probe', () => {
  show('fn', compile([code('const f = (x: number) => x + 1;\nfunction g() { return 1; }\nconst pr = Promise.resolve(1);\nconst sym = Symbol("s");\nclass K { v = 1 }\nconst k = new K();', { task: 'a' }), code('const r = [f(1), g(), pr, sym, k];', { task: 'b' })]));
  show('nested', compile([code('const o = { cb: () => 1, n: 1 };', { task: 'a' }), code('const r = o.n;', { task: 'b' })]));
  show('setupclass', compile([code('class K { v = 1 }', { role: 'setup' }), code('const k = new K();', { task: 'a' }), code('const r = k.v;', { task: 'b' })]));
  show('codec', compile([code('import { registerCodec } from "@cellgraph/kernel";\nclass K { constructor(public v: number) {} }\nregisterCodec(K, { name: "K", encode: (k) => k.v, decode: (v) => new K(v as number) });', { role: 'setup' }), code('const k = new K(1);', { task: 'a' }), code('const r = k.v;', { task: 'b' })]));
  show('builtins', compile([code('const d = new Date();\nconst m = new Map<string, Set<number>>();\nconst s = new Set<string>();\nconst f = new Float64Array(3);\nconst u = new Uint8Array(2);', { task: 'a' }), code('const r = [d, m, s, f, u];', { task: 'b' })]));
  show('shorthand', compile([code('const a = 1;', { task: 'a' }), code('const o = { a };', { task: 'b' })]));
  show('typeerr', compile([code('const a: number = 1;', { task: 'a' }), md('x'), code('const x = 1;\nconst s: string = a;\nconst t: number = "x";\nundefinedFn;', { task: 'b' })]));
  show('later', compile([code('const b = c + 1;', { task: 'a' }), code('const c = 1;', { task: 'b' })]));
});
