/**
 * Each example runs top to bottom in the real tslab kernel, unchanged, as a data
 * scientist runs it in JupyterLab: nbconvert --execute drives the kernel from the
 * project's venv (.venv, made by scripts/setup.sh) against a copy of the notebook.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '..');
const JUPYTER = path.join(ROOT, '.venv', 'bin', 'jupyter');

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
}

/** Executes examples/<name>/<name>.ipynb in tslab; returns every code cell's outputs. */
function executeInTslab(name: string): Output[][] {
  if (!fs.existsSync(JUPYTER)) {
    throw new Error(`${JUPYTER} is missing: run "bash scripts/setup.sh" (npm test does) to create the venv with JupyterLab and tslab`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cg-tslab-${name}-`));
  try {
    fs.cpSync(path.join(__dirname, name), dir, { recursive: true, filter: (src) => !/[\\/](out|\.cellgraph)$/.test(src) });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const r = spawnSync(
      JUPYTER,
      ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.kernel_name=tslab', '--ExecutePreprocessor.timeout=240', '--output', 'executed.ipynb', `${name}.ipynb`],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, JUPYTER_PLATFORM_DIRS: '1' } }
    );
    if (r.status !== 0) throw new Error(`nbconvert failed for ${name} (exit ${r.status}):\n${r.stderr}`);
    const executed = JSON.parse(fs.readFileSync(path.join(dir, 'executed.ipynb'), 'utf8')) as { cells: { cell_type: string; outputs?: Output[] }[] };
    return executed.cells.filter((c) => c.cell_type === 'code').map((c) => c.outputs ?? []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const text = (o: Output): string => [o.text ?? '', ...Object.values(o.data ?? {})].flat().join('');
const errorsOf = (cells: Output[][]): string[] =>
  cells.flatMap((outs, i) => outs.filter((o) => o.output_type === 'error' || o.name === 'stderr').map((o) => `cell ${i}: ${o.ename ?? ''} ${o.evalue ?? text(o)}`));

it('hello runs in tslab', () => {
  const cells = executeInTslab('hello');
  expect(errorsOf(cells)).toEqual([]);
  expect(cells.flat().map(text).join('\n')).toContain('Hello, world');
  expect(cells.flat().some((o) => o.output_type === 'display_data' && text(o).includes('<h3>HELLO, WORLD!!!</h3>'))).toBe(true);
});

it('iris runs in tslab', () => {
  const cells = executeInTslab('iris');
  expect(errorsOf(cells)).toEqual([]);
  const all = cells.flat().map(text).join('\n');
  expect(all).toContain('loaded 150 flowers of 3 species');
  expect(all).toMatch(/k-NN \(k=5\) accuracy: 0\.9\d\d/);
});

it('data-processing runs in tslab', () => {
  const cells = executeInTslab('data-processing');
  expect(errorsOf(cells)).toEqual([]);
  const all = cells.flat().map(text).join('\n');
  expect(all).toContain('3 new file(s)');
  expect(all).toMatch(/done: 3 file\(s\), \d+ new rows/);
});

it('sweep runs in tslab: the skip cells stand in for the foreach', () => {
  const cells = executeInTslab('sweep');
  expect(errorsOf(cells)).toEqual([]);
  const all = cells.flat().map(text).join('\n');
  expect(all).toContain('20 configurations');
  expect(all).toMatch(/best of 20: lr=\S+ epochs=\d+, accuracy 0\.9\d\d/);
});
