/**
 * A foreach task's elements through the API and the CLI, on a real `cellgraph server`
 * process (local executor, filesystem store, SQLite): the elements route lists each
 * element's state, attempts, duration and error a page at a time and filtered by state;
 * the logs route and `cellgraph logs RUN TASK --element N` read one element's output and
 * nothing of the other elements'; unknown tasks and elements are 404, a task that is not a
 * foreach task 422. The server is stopped by PID.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunLogsResponse, TaskElementsResponse } from '@cellgraph/schema';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { CLI, ServerProcess, runToEnd, startServerProcess, stopAllServers, tempWorkDir } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(120_000);

const TOKEN = 'foreach-elements-token-0123456789ab';

const notebook = notebookText([
  code('const ids = [0, 1, 2, 3, 4];', { task: 'make' }),
  code('if (id === 3) throw new Error("element three is bad");\nconsole.log(`work on element ${id}`);\nconst doubled = id * 2;', {
    task: 'double',
    foreach: 'ids',
    as: 'id',
    minSuccessRatio: 0.5
  })
]);

afterAll(stopAllServers);

describe('foreach elements over the API', () => {
  let dir: string;
  let s: ServerProcess;
  let runId: string;
  beforeAll(async () => {
    dir = tempWorkDir('cg-foreach-elements-');
    s = await startServerProcess(dir, { token: TOKEN });
    const run = await runToEnd(s, { notebook: JSON.parse(notebook), notebookName: 'elements.ipynb' });
    expect(run.status).toBe('succeeded');
    runId = run.runId;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const get = async (path: string) => {
    const res = await s.api(path);
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it('lists every element with its state, attempts, duration and error', async () => {
    const { status, body } = await get(`/api/v1/runs/${runId}/tasks/double/elements`);
    expect(status).toBe(200);
    const page = TaskElementsResponse.parse(body);
    expect(page).toMatchObject({ task: 'double', status: 'succeeded', matching: 5, offset: 0, limit: 100 });
    expect(page.counts).toMatchObject({ total: 5, succeeded: 4, failed: 1 });
    expect(page.elements.map((e) => [e.index, e.state, e.attempts, e.cached])).toEqual([
      [0, 'succeeded', 1, false],
      [1, 'succeeded', 1, false],
      [2, 'succeeded', 1, false],
      [3, 'failed', 1, false],
      [4, 'succeeded', 1, false]
    ]);
    for (const e of page.elements) expect(e.durationMs).toBeGreaterThan(0);
    expect(page.elements[3].error).toContain('element three is bad');
  });

  it('filters by state and pages', async () => {
    const failed = TaskElementsResponse.parse((await get(`/api/v1/runs/${runId}/tasks/double/elements?state=failed`)).body);
    expect(failed.matching).toBe(1);
    expect(failed.elements.map((e) => e.index)).toEqual([3]);
    const page = TaskElementsResponse.parse((await get(`/api/v1/runs/${runId}/tasks/double/elements?state=succeeded&offset=1&limit=2`)).body);
    expect({ matching: page.matching, indices: page.elements.map((e) => e.index) }).toEqual({ matching: 4, indices: [1, 2] });
  });

  it("reads one element's log, none of the others'", async () => {
    const { status, body } = await get(`/api/v1/runs/${runId}/logs?task=double&element=2`);
    expect(status).toBe(200);
    const logs = RunLogsResponse.parse(body);
    expect(logs.tasks).toHaveLength(1);
    expect(logs.tasks[0]).toMatchObject({ task: 'double', element: 2, status: 'succeeded' });
    expect(logs.tasks[0].attempts).toHaveLength(1);
    expect(logs.tasks[0].attempts[0].text).toContain('work on element 2');
    expect(logs.tasks[0].attempts[0].text).not.toContain('work on element 1');
    const failed = RunLogsResponse.parse((await get(`/api/v1/runs/${runId}/logs?task=double&element=3`)).body);
    expect(failed.tasks[0].status).toBe('failed');
    expect(failed.tasks[0].attempts[0].text).toContain('element three is bad');
  });

  it('answers 404 for an unknown task or element and 422 for a task without elements', async () => {
    expect((await get(`/api/v1/runs/${runId}/tasks/nothing/elements`)).status).toBe(404);
    expect((await get(`/api/v1/runs/${runId}/logs?task=double&element=5`)).status).toBe(404);
    const notForeach = await get(`/api/v1/runs/${runId}/tasks/make/elements`);
    expect(notForeach).toMatchObject({ status: 422, body: { error: { code: 'invalid', field: 'path.task' } } });
    expect((await get(`/api/v1/runs/${runId}/logs?task=make&element=0`)).status).toBe(422);
    expect((await get(`/api/v1/runs/${runId}/logs?element=0`)).body).toMatchObject({ error: { code: 'invalid', field: 'query.task' } });
    expect((await get(`/api/v1/runs/${runId}/tasks/double/elements?limit=1001`)).status).toBe(400);
  });

  it('cellgraph logs RUN TASK --element N prints that element', () => {
    const env = { ...process.env, CELLGRAPH_TOKEN: TOKEN };
    const cli = spawnSync(process.execPath, [CLI, '--server', s.url, 'logs', runId, 'double', '--element', '4'], { encoding: 'utf8', env });
    expect({ status: cli.status, stderr: cli.stderr }).toEqual({ status: 0, stderr: '' });
    expect(cli.stdout).toContain('== double[4] attempt 1/1 (succeeded)');
    expect(cli.stdout).toContain('work on element 4');
    expect(cli.stdout).not.toContain('work on element 0');
    const local = spawnSync(process.execPath, [CLI, 'logs', runId, 'double', '--element', '3', '--home', path.join(dir, '.cellgraph')], { encoding: 'utf8', env: process.env, cwd: dir });
    expect({ status: local.status, stderr: local.stderr }).toEqual({ status: 0, stderr: '' });
    expect(local.stdout).toContain('== double[3] attempt 1/1 (failed)');
    const bad = spawnSync(process.execPath, [CLI, '--server', s.url, 'logs', runId, '--element', '1'], { encoding: 'utf8', env });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--element needs the foreach task');
  });
});
