/**
 * Content hashing: a task's codeHash (its cache key's code part) ignores comments and
 * formatting, changes when the code does, and does not change when another task is edited.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileNotebook } from '..';
import { TestCell, code, linkNodeModules, md, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, compileOk } from './helpers';

afterAll(cleanup);

const SETUP = 'import * as fs from "fs";\nconst BASE = 10;';
const LOAD = 'const rows = [1, 2, 3].map((x) => x * BASE);\nconsole.log(rows.length);';
const SUM = 'const total = rows.reduce((s, x) => s + x, 0) * scale;\ntotal';

function notebook(parts: { setup?: string; load?: string; sum?: string; params?: string } = {}): TestCell[] {
  return [
    code(parts.setup ?? SETUP, { role: 'setup' }),
    code(parts.params ?? 'const scale = 2;', { role: 'parameters' }),
    md('## Load'),
    code(parts.load ?? LOAD, { task: 'load' }),
    code(parts.sum ?? SUM, { task: 'sum' })
  ];
}

function hashes(cells: TestCell[]): Record<string, string> {
  return Object.fromEntries(compileOk(cells).ir.tasks.map((t) => [t.name, t.codeHash]));
}

const base = () => hashes(notebook());

describe('codeHash', () => {
  it('is a sha256 content hash', () => {
    for (const h of Object.values(base())) expect(h).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('is stable across compiles', () => {
    expect(base()).toEqual(base());
  });

  it.each([
    ['line comments', '// load the rows\nconst rows = [1, 2, 3].map((x) => x * BASE); // times ten\nconsole.log(rows.length);'],
    ['block and doc comments', '/** Rows. */\nconst rows = [1, 2, /* three */ 3].map((x) => x * BASE);\n/* log */ console.log(rows.length);'],
    ['indentation and blank lines', '\n\n  const rows = [1, 2, 3].map((x) => x * BASE);\n\n\n    console.log(rows.length);\n\n'],
    ['spacing inside a line', 'const   rows=[1,2,3].map( ( x )=>x*BASE );\nconsole.log( rows.length )'],
    ['missing semicolons', 'const rows = [1, 2, 3].map((x) => x * BASE)\nconsole.log(rows.length)'],
    ['a literal broken over several lines', 'const rows = [\n  1,\n  2,\n  3\n].map((x) => x * BASE);\nconsole.log(rows.length);'],
    ['a call broken over several lines, with a trailing comma', 'const rows = [1, 2, 3].map(\n  (x) => x * BASE,\n);\nconsole.log(\n  rows.length,\n);'],
    ['a trailing comma in a literal', 'const rows = [1, 2, 3,].map((x) => x * BASE);\nconsole.log(rows.length);']
  ])('ignores %s', (_label, load) => {
    expect(hashes(notebook({ load }))).toEqual(base());
  });

  it('ignores a block written on one line or several', () => {
    const one = hashes(notebook({ load: 'const rows = [1, 2, 3].map((x) => { return x * BASE; });\nconst o = { a: 1, b: [2] };' }));
    const many = hashes(notebook({ load: 'const rows = [1, 2, 3].map((x) => {\n  return x * BASE;\n});\nconst o = {\n  a: 1,\n  b: [\n    2,\n  ],\n};' }));
    expect(many).toEqual(one);
  });

  it('ignores the quote style of strings', () => {
    const double = hashes(notebook({ load: 'const rows = [1, 2, 3].map((x) => x * BASE);\nconsole.log("rows", rows.length);' }));
    const single = hashes(notebook({ load: "const rows = [1, 2, 3].map((x) => x * BASE);\nconsole.log('rows', rows.length);" }));
    expect(single).toEqual(double);
  });

  it('ignores comments and formatting of the displayed last expression', () => {
    expect(hashes(notebook({ sum: 'const total = rows.reduce((s, x) => s + x, 0) * scale;\ntotal // show it' }))).toEqual(base());
    expect(hashes(notebook({ sum: '// sum\nconst total = rows.reduce((s, x) => s + x, 0) * scale;\n\ntotal;' }))).toEqual(base());
  });

  it.each([
    ['a changed literal', 'const rows = [1, 2, 4].map((x) => x * BASE);\nconsole.log(rows.length);'],
    ['a changed operator', 'const rows = [1, 2, 3].map((x) => x + BASE);\nconsole.log(rows.length);'],
    ['a changed string', 'const rows = [1, 2, 3].map((x) => x * BASE);\nconsole.log(rows.length, "x");'],
    ['an array hole', 'const rows = [1, 2, 3, ,].map((x) => x * BASE);\nconsole.log(rows.length);'],
    ['an added regular expression', 'const rows = [1, 2, 3].map((x) => x * BASE);\nconsole.log(/a b/.test(String(rows.length)));'],
    ['a string whose only change is whitespace', 'const rows = [1, 2, 3].map((x) => x * BASE);\nconsole.log(`${rows.length} `);'],
    ['an added statement', `${LOAD}\nconsole.log("done");`]
  ])('changes with %s', (_label, load) => {
    const edited = hashes(notebook({ load }));
    expect(edited.load).not.toEqual(base().load);
  });

  it('distinguishes whitespace inside strings', () => {
    const a = hashes(notebook({ load: 'const rows = [1].map((x) => x * BASE);\nconsole.log("a b");' }));
    const b = hashes(notebook({ load: 'const rows = [1].map((x) => x * BASE);\nconsole.log("a  b");' }));
    expect(a.load).not.toEqual(b.load);
  });

  it("does not change another task's hash when one task is edited", () => {
    const before = base();
    const loadEdited = hashes(notebook({ load: 'const rows = [4, 5, 6, 7].map((x) => x - BASE);\nconsole.log("edited", rows);' }));
    expect(loadEdited.load).not.toEqual(before.load);
    expect(loadEdited.sum).toEqual(before.sum);

    const sumEdited = hashes(notebook({ sum: 'const total = rows.length * scale;\nconsole.log(total);' }));
    expect(sumEdited.sum).not.toEqual(before.sum);
    expect(sumEdited.load).toEqual(before.load);
  });

  it('changes every task when setup code changes (setup runs in every task)', () => {
    const before = base();
    const after = hashes(notebook({ setup: 'import * as fs from "fs";\nconst BASE = 11;' }));
    expect(after.load).not.toEqual(before.load);
    expect(after.sum).not.toEqual(before.sum);
  });

  it('ignores comments in setup and parameters cells', () => {
    expect(hashes(notebook({ setup: `// shared\n${SETUP} // ten`, params: '/** the scale */\nconst scale = 2; // x2' }))).toEqual(base());
  });
});

describe('notebook hash and version', () => {
  function compileAt(dir: string, cells: TestCell[], outputs = false) {
    const text = notebookText(cells);
    const withOutputs = outputs
      ? JSON.stringify({ ...JSON.parse(text), cells: JSON.parse(text).cells.map((c: { cell_type: string }) => (c.cell_type === 'code' ? { ...c, execution_count: 7, outputs: [{ output_type: 'stream', name: 'stdout', text: 'hi\n' }] } : c)) })
      : text;
    const r = compileNotebook({ path: path.join(dir, 'flow.ipynb'), text: withOutputs });
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    return r.ir;
  }

  it('ignores saved outputs and execution counts', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-hash-'));
    try {
      linkNodeModules(dir);
      const clean = compileAt(dir, notebook());
      const ran = compileAt(dir, notebook(), true);
      expect(ran.source.notebookHash).toEqual(clean.source.notebookHash);
      expect(ran.version).toEqual(clean.version);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not depend on the directory the notebook is in', () => {
    const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'cg-hash-')));
    try {
      for (const d of dirs) linkNodeModules(d);
      const [a, b] = dirs.map((d) => compileAt(d, notebook()));
      expect(a.source.path).not.toEqual(b.source.path);
      expect(a.version).toEqual(b.version);
      expect(a.tasks.map((t) => t.codeHash)).toEqual(b.tasks.map((t) => t.codeHash));
    } finally {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('changes the notebook hash when an annotation changes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-hash-'));
    try {
      linkNodeModules(dir);
      const cells = notebook();
      const retried = [...cells.slice(0, 4), code(SUM, { task: 'sum', retries: 2 })];
      const a = compileAt(dir, cells);
      const b = compileAt(dir, retried);
      expect(b.source.notebookHash).not.toEqual(a.source.notebookHash);
      expect(b.version).not.toEqual(a.version);
      expect(b.tasks.map((t) => t.codeHash)).toEqual(a.tasks.map((t) => t.codeHash));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parameter defaults', () => {
  it('do not count in codeHash: the value a run uses enters the cache key of the tasks that read it', () => {
    const before = base();
    const after = hashes(notebook({ params: 'const scale = 3;' }));
    expect(after).toEqual(before);
    // ...while the parameter's default itself changes in the IR, so runs use it.
    const ir = compileOk(notebook({ params: 'const scale = 3;' })).ir;
    expect(ir.params.find((p) => p.name === 'scale')?.default).toBe(3);
    expect(ir.tasks.find((t) => t.name === 'sum')?.params).toEqual(['scale']);
    expect(ir.tasks.find((t) => t.name === 'load')?.params).toEqual([]);
  });
});
