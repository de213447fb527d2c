/**
 * Uploaded notebook content runs in the folder it names (`notebookDir`, relative to the
 * server's work directory), as JupyterLab's notebook in a subfolder runs in the kernel: its
 * tasks read data files next to it. A folder the server does not have leaves the content in
 * the work directory; a folder outside it is refused, naming the field. Real server process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiError, RunDetail, TaskOutputsResponse } from '@cellgraph/schema';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ServerProcess, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(120_000);

let dir: string;
let s: ServerProcess;

beforeAll(async () => {
  dir = tempWorkDir('cg-nbdir-');
  fs.mkdirSync(path.join(dir, 'analysis', 'q1'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data.json'), '{"n": 1}');
  fs.writeFileSync(path.join(dir, 'analysis', 'q1', 'data.json'), '{"n": 7}');
  s = await startServerProcess(dir, { token: 'notebook-dir-token-0123456789abcdef' });
});
afterAll(async () => {
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

const reader = JSON.parse(
  notebookText([code('import * as fs from "fs";', { role: 'setup' }), code('const n: number = JSON.parse(fs.readFileSync("data.json", "utf8")).n;', { task: 'read' })])
) as Record<string, unknown>;

/** Runs the reader with `notebookDir` (omitted when undefined); the `n` it read. */
async function readWith(notebookDir: string | undefined): Promise<unknown> {
  const res = await s.api('/api/v1/runs', { method: 'POST', json: { notebook: reader, notebookName: 'reader.ipynb', ...(notebookDir === undefined ? {} : { notebookDir }), noCache: true } });
  expect(res.status).toBe(201);
  const { runId } = RunDetail.parse(await res.json());
  const done = await waitFor(async () => {
    const d = RunDetail.parse(await (await s.api(`/api/v1/runs/${runId}`)).json());
    return d.status === 'queued' || d.status === 'running' ? undefined : d;
  }, 60_000, `run ${runId}`);
  expect(done.status).toBe('succeeded');
  const outputs = TaskOutputsResponse.parse(await (await s.api(`/api/v1/runs/${runId}/tasks/read/outputs`)).json());
  return outputs.outputs.find((o) => o.name === 'n')?.value;
}

it('runs uploaded content in its folder; without one, or one the server lacks, in the work directory', async () => {
  expect(await readWith('analysis/q1')).toBe(7);
  expect(await readWith(undefined)).toBe(1);
  expect(await readWith('')).toBe(1);
  expect(await readWith('not/here')).toBe(1);
});

it('refuses a folder outside the work directory, naming the field, for runs, promotion and compile', async () => {
  for (const notebookDir of ['..', '../x', 'analysis/../..', '/etc', 'a//b', './analysis', 'a\\..\\b', 'x\u0000']) {
    for (const route of ['/api/v1/runs', '/api/v1/workflows/promote', '/api/v1/compile']) {
      const res = await s.api(route, { method: 'POST', json: { notebook: reader, notebookName: 'reader.ipynb', notebookDir } });
      expect({ route, notebookDir, status: res.status }).toEqual({ route, notebookDir, status: 400 });
      expect(ApiError.parse(await res.json()).error.field).toBe('body.notebookDir');
    }
  }
  expect(fs.readdirSync(path.dirname(dir)).filter((f) => f === 'reader.ipynb')).toEqual([]);
});
