/**
 * A development run from JupyterLab (POST /runs with the notebook's content, as the Run
 * button sends it): nothing is promoted; a failure names the notebook cell and line (the
 * generated module's source map) in the run, the task's log and the executed notebook,
 * which also carries the run's parameters in papermill's injected-parameters cell; and
 * running the fixed notebook again reuses the upstream task whose code and inputs did not
 * change. Real server process.
 */
import * as fs from 'node:fs';
import { Notebook, RunDetail, RunLogsResponse } from '@cellgraph/schema';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ServerProcess, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(120_000);

let dir: string;
let s: ServerProcess;

beforeAll(async () => {
  dir = tempWorkDir('cg-devrun-');
  s = await startServerProcess(dir, { token: 'dev-run-token-0123456789abcdef' });
});
afterAll(async () => {
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

const notebook = (totalCell: string) =>
  JSON.parse(
    notebookText([
      code('const double = (x: number) => x * 2;', { role: 'setup' }),
      code('const factor = 2;', { role: 'parameters' }),
      code('const rows: number[] = [1, 2, 3].map(double);', { task: 'load' }),
      code(totalCell, { task: 'total' })
    ])
  ) as Record<string, unknown>;

async function runToEnd(nb: Record<string, unknown>): Promise<RunDetail> {
  const res = await s.api('/api/v1/runs', { method: 'POST', json: { notebook: nb, notebookName: 'stats.ipynb', notebookDir: '', params: { factor: 5 } } });
  expect(res.status).toBe(201);
  const { runId } = RunDetail.parse(await res.json());
  return waitFor(async () => {
    const d = RunDetail.parse(await (await s.api(`/api/v1/runs/${runId}`)).json());
    return d.status === 'queued' || d.status === 'running' ? undefined : d;
  }, 90_000, `run ${runId}`);
}

it('reports a failure at its notebook cell and line, in the run, the log and the executed notebook; promotes nothing', async () => {
  const failed = await runToEnd(notebook('const k: number = factor;\nconst total: number = rows.reduce((a, b) => a + b, 0) * k;\nif (total > 0) throw new Error(`boom at ${total}`);'));
  expect(failed.status).toBe('failed');
  const total = failed.tasks.find((t) => t.name === 'total');
  expect(total).toMatchObject({ status: 'failed', error: 'boom at 60', errorAt: { cell: 3, line: 3 } });

  const logs = RunLogsResponse.parse(await (await s.api(`/api/v1/runs/${failed.runId}/logs?task=total`)).json());
  const log = logs.tasks[0].attempts[0].text;
  expect(log).toContain('cellgraph: task total failed at cell 4, line 3:');
  expect(log).toContain('Error: boom at 60');
  expect(log).not.toContain('cellgraph-task.js');

  const executed = Notebook.parse(await (await s.api(`/api/v1/runs/${failed.runId}/notebook`)).json());
  const errorOutput = executed.cells.flatMap((c) => c.outputs ?? []).find((o) => o.output_type === 'error');
  expect(errorOutput).toMatchObject({ ename: 'Error', evalue: 'boom at 60' });
  expect((errorOutput as { traceback: string[] }).traceback.join('\n')).toContain('cell 4, line 3');
  const injected = executed.cells.find((c) => (c.metadata.tags as string[] | undefined)?.includes('injected-parameters'));
  expect(injected?.source).toContain('const factor = 5;');
  expect(executed.cells.indexOf(injected!)).toBe(2);

  // A development run records what it ran, but no promoted version.
  const workflows = (await (await s.api('/api/v1/workflows')).json()) as { workflows: unknown[] };
  expect(workflows.workflows).toEqual([]);
});

it('runs the fixed notebook again reusing the upstream task whose code and inputs did not change', async () => {
  const fixed = await runToEnd(notebook('const k: number = factor;\nconst total: number = rows.reduce((a, b) => a + b, 0) * k;'));
  expect(fixed.status).toBe('succeeded');
  expect(fixed.tasks.find((t) => t.name === 'load')).toMatchObject({ status: 'cached', cached: true });
  expect(fixed.tasks.find((t) => t.name === 'total')).toMatchObject({ status: 'succeeded', cached: false });
});
