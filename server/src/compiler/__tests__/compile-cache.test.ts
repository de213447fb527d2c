/** The compile cache behind `cellgraph run`: reused only while nothing the compile read has changed. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileWithCache } from '../compile-cache';
import { publishWorkflow } from '../../engine/workflow-files';
import { FilesystemStore } from '../../stores';
import { code, linkNodeModules, notebookText } from '@cellgraph/dev/test-support/notebooks';

let dir: string;
let store: FilesystemStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-ccache-'));
  linkNodeModules(dir);
  store = new FilesystemStore(path.join(dir, '.cellgraph'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const nbPath = () => path.join(dir, 'nb.ipynb');

async function compileAndPublish(text: string) {
  const r = await compileWithCache(store, { path: nbPath(), text });
  if (r.ok) await publishWorkflow(store, r.ir, text);
  return r;
}

const usesHelper = notebookText([
  code('import { double } from "./helper";', { role: 'setup' }),
  code('const x: number = double(2);', { task: 'a' }),
  code('const y = x + 1;', { task: 'b' })
]);

it('reuses an identical compile and recompiles an edited notebook', async () => {
  fs.writeFileSync(path.join(dir, 'helper.ts'), 'export function double(n: number): number { return n * 2; }\n');
  const first = await compileAndPublish(usesHelper);
  expect(first).toMatchObject({ ok: true, fromCache: false });
  const second = await compileAndPublish(usesHelper);
  expect(second).toMatchObject({ ok: true, fromCache: true });
  if (!first.ok || !second.ok) throw new Error('unreachable');
  expect(second.ir).toEqual(first.ir);

  const edited = usesHelper.replace('x + 1', 'x + 2');
  expect(await compileAndPublish(edited)).toMatchObject({ ok: true, fromCache: false });
});

it('recompiles when a module the notebook imports changes, and reports its new type errors', async () => {
  const helper = path.join(dir, 'helper.ts');
  fs.writeFileSync(helper, 'export function double(n: number): number { return n * 2; }\n');
  await compileAndPublish(usesHelper);
  fs.writeFileSync(helper, 'export function double(n: number): string { return String(n * 2); }\n');
  const after = await compileAndPublish(usesHelper);
  expect(after.ok).toBe(false);
  expect(after.fromCache).toBe(false);
  if (after.ok) throw new Error('unreachable');
  expect(after.diagnostics.map((d) => d.message).join('\n')).toMatch(/string.*not assignable.*number/);
});

it('never caches a failed compile, and treats a damaged entry as a miss', async () => {
  const broken = notebookText([code('const a: number = "no";', { task: 'a' })]);
  expect(await compileAndPublish(broken)).toMatchObject({ ok: false, fromCache: false });
  expect(fs.existsSync(path.join(dir, '.cellgraph', 'compiled'))).toBe(false);

  const good = notebookText([code('const a = 1;', { task: 'a' })]);
  await compileAndPublish(good);
  const [entry] = fs.readdirSync(path.join(dir, '.cellgraph', 'compiled'));
  fs.writeFileSync(path.join(dir, '.cellgraph', 'compiled', entry), '{"version": 42');
  expect(await compileAndPublish(good)).toMatchObject({ ok: true, fromCache: false });
  expect(await compileAndPublish(good)).toMatchObject({ ok: true, fromCache: true });
});
