/**
 * Results back in the notebook, through a real tslab kernel: a real `cellgraph server`
 * process runs a small workflow; a notebook executed in tslab (nbconvert --execute, the
 * project's venv) fetches the workflow's output declarations, reads the latest run's
 * outputs with `runs.latest(...).task(...).output(...)`, decoded, and gets a type error for
 * a wrong use of a typed output. The server finds its way to the kernel through
 * CELLGRAPH_SERVER and CELLGRAPH_TOKEN. The server is stopped by PID.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ServerProcess, runToEnd, startServerProcess, stopAllServers, tempWorkDir } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '..');
const JUPYTER = path.join(ROOT, '.venv', 'bin', 'jupyter');
const TOKEN = 'tslab-client-token-0123456789abcdef';

const workflow = notebookText([
  code('interface Summary {\n  mean: number;\n  at: Date;\n  counts: Map<string, number>;\n}', { role: 'setup' }),
  code('const values: number[] = [1, 2, 3, 4];', { task: 'load' }),
  code(
    'const summary: Summary = { mean: values.reduce((a, b) => a + b, 0) / values.length, at: new Date("2026-12-05T10:00:00.000Z"), counts: new Map([["even", 2]]) };\nconst count: number = values.length;',
    { task: 'stats' }
  )
]);

/** The exploring notebook, as a data scientist writes it in tslab. */
const explore = notebookText([
  code('import { runs } from "@cellgraph/kernel";'),
  code('const file = await runs.types("stats");\nconsole.log(file.endsWith("cellgraph-types/stats.d.ts"));'),
  code(
    'import type * as statsTypes from "./cellgraph-types/stats";\nconst run = await runs.latest("stats");\nconst summary = await run.task("stats").output("summary");\nconst at: Date = summary.at;\nconsole.log(run.status, summary.mean, at.toISOString(), summary.counts.get("even"), await run.task("stats").output("count"));'
  ),
  code('const wrong: string = await run.task("stats").output("count");')
]);

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
}

afterAll(stopAllServers);

it('reads a run’s outputs back in tslab, decoded and typed', async () => {
  if (!fs.existsSync(JUPYTER)) throw new Error(`${JUPYTER} is missing: run "bash scripts/setup.sh" to create the venv with JupyterLab and tslab`);
  const dir = tempWorkDir('cg-tslab-client-');
  try {
    const s: ServerProcess = await startServerProcess(dir, { token: TOKEN });
    expect((await runToEnd(s, { notebook: JSON.parse(workflow), notebookName: 'stats.ipynb' })).status).toBe('succeeded');

    fs.writeFileSync(path.join(dir, 'explore.ipynb'), explore);
    const r = spawnSync(
      JUPYTER,
      ['nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--ExecutePreprocessor.kernel_name=tslab', '--ExecutePreprocessor.timeout=240', '--output', 'executed.ipynb', 'explore.ipynb'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, JUPYTER_PLATFORM_DIRS: '1', CELLGRAPH_SERVER: s.url, CELLGRAPH_TOKEN: TOKEN } }
    );
    if (r.status !== 0) throw new Error(`nbconvert failed (exit ${r.status}):\n${r.stderr}`);
    const cells = (JSON.parse(fs.readFileSync(path.join(dir, 'executed.ipynb'), 'utf8')) as { cells: { outputs?: Output[] }[] }).cells.map((c) => c.outputs ?? []);
    const text = (outs: Output[]) => outs.map((o) => [o.text ?? '', o.ename ?? '', o.evalue ?? ''].flat().join(' ')).join('\n');
    expect(text(cells[1])).toContain('true');
    expect(cells[2].filter((o) => o.output_type === 'error')).toEqual([]);
    expect(text(cells[2])).toContain('succeeded 2.5 2026-12-05T10:00:00.000Z 2 4');
    // Typed from the declarations: a number is not a string.
    expect(text(cells[3])).toMatch(/Type 'number' is not assignable to type 'string'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
