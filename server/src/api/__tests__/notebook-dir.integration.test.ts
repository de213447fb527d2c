/**
 * Uploaded notebook content runs in the folder it names (`notebookDir`, relative to the
 * server's work directory), as JupyterLab's notebook in a subfolder runs in the kernel: its
 * tasks read data files next to it. A folder the server does not have leaves the content in
 * the work directory; a folder outside it is refused, naming the field (400 when the name
 * itself is outside, 422 when a symlink leads out). Real server process.
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

it('refuses a folder that is a symlink out of the work directory (it fits the document: 422, not 400)', async () => {
  fs.symlinkSync(path.dirname(dir), path.join(dir, 'escape'), 'dir');
  const res = await s.api('/api/v1/runs', { method: 'POST', json: { notebook: reader, notebookName: 'reader.ipynb', notebookDir: 'escape' } });
  expect({ status: res.status, body: (await res.json()) as unknown }).toMatchObject({
    status: 422,
    body: { error: { code: 'invalid', field: 'body.notebookDir', message: expect.stringContaining('outside the server') } }
  });
});

it('names a workflow by its notebook path relative to the work directory: same file name in two folders, two workflows; the promoted run reads the data beside it', async () => {
  const promote = async (notebookDir: string | undefined) => {
    const res = await s.api('/api/v1/workflows/promote', {
      method: 'POST',
      json: { notebook: reader, notebookName: 'reader.ipynb', ...(notebookDir === undefined ? {} : { notebookDir }), run: true }
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as { version: { workflow: string; number: number; notebookPath: string }; run: { runId: string } };
  };
  const inFolder = await promote('analysis/q1');
  const atRoot = await promote(undefined);
  expect(inFolder.version.workflow).toBe('analysis--q1--reader');
  expect(inFolder.version.number).toBe(1);
  expect(inFolder.version.notebookPath).toBe(path.join(dir, 'analysis', 'q1', 'reader.ipynb'));
  expect(atRoot.version.workflow).toBe('reader');
  expect(atRoot.version.number).toBe(1);
  const n = await waitFor(async () => {
    const d = RunDetail.parse(await (await s.api(`/api/v1/runs/${inFolder.run.runId}`)).json());
    if (d.status === 'queued' || d.status === 'running') return undefined;
    expect(d.status).toBe('succeeded');
    const outputs = TaskOutputsResponse.parse(await (await s.api(`/api/v1/runs/${d.runId}/tasks/read/outputs`)).json());
    return outputs.outputs.find((o) => o.name === 'n')?.value;
  }, 60_000, 'the promoted run');
  expect(n).toBe(7);
  const workflows = (await (await s.api('/api/v1/workflows')).json()) as { workflows: { workflow: string }[] };
  expect(workflows.workflows.map((w) => w.workflow).sort()).toEqual(expect.arrayContaining(['analysis--q1--reader', 'reader']));
});

it('names a workflow from a notebookPath relative to the work directory the same way', async () => {
  fs.writeFileSync(path.join(dir, 'analysis', 'q1', 'by-path.ipynb'), JSON.stringify(reader));
  const res = await s.api('/api/v1/compile', { method: 'POST', json: { notebookPath: 'analysis/q1/by-path.ipynb' } });
  expect(((await res.json()) as { ir: { name: string } }).ir.name).toBe('analysis--q1--by-path');
});
