/**
 * Compiles off the event loop, against the real `cellgraph server` process: the type bomb
 * of issue 13 (a 3 KB notebook that froze the server for 93 s) gets a 422 `compile-limit`
 * naming the limit, within the limit, while `GET /health` keeps answering; a compile and a
 * run of the same notebook at once share the one compile. Timing figures are the bench's
 * job (bench/compile-pool.ts); this asserts the behaviour.
 */
import * as fs from 'node:fs';
import { ApiError, CompileResponse, HealthResponse } from '@cellgraph/schema';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { typeBombNotebook } from '@cellgraph/dev/bench/notebooks';
import { ServerProcess, startServerProcess, stopAllServers, tempWorkDir } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(180_000);

const TIME_LIMIT_SECONDS = 4;

let dir: string;
let s: ServerProcess;

beforeAll(async () => {
  dir = tempWorkDir('cg-pool-');
  s = await startServerProcess(dir, { args: ['--compile-timeout-seconds', String(TIME_LIMIT_SECONDS), '--compile-workers', '2'] });
});
afterAll(async () => {
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('stops the type bomb with a 422 compile-limit naming the limit, while /health keeps answering', async () => {
  const bomb = JSON.parse(typeBombNotebook()) as Record<string, unknown>;
  const started = Date.now();
  let settledAt: number | undefined;
  // A compile and a run of the same notebook at once: one compile, one answer for both.
  const compiling = s.api('/api/v1/compile', { method: 'POST', json: { notebook: bomb } }).then((r) => ((settledAt = Date.now()), r));
  const running = s.api('/api/v1/runs', { method: 'POST', json: { notebook: bomb } });

  const healthAnswers: number[] = [];
  while (settledAt === undefined) {
    const t0 = Date.now();
    const health = await fetch(`${s.url}/api/v1/health`);
    expect(HealthResponse.parse(await health.json()).status).toBe('ok');
    if (settledAt === undefined) healthAnswers.push(Date.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  // The server answered health checks all along the compile, not once it was over.
  expect(healthAnswers.length).toBeGreaterThanOrEqual(10);

  for (const res of [await compiling, await running]) {
    expect(res.status).toBe(422);
    const body = ApiError.parse(await res.json());
    expect(body.error).toEqual({
      code: 'compile-limit',
      field: 'notebook',
      message: `the compile ran past its time limit of ${TIME_LIMIT_SECONDS} s (--compile-timeout-seconds) and was stopped; nothing was run`
    });
  }
  // Within the limit (plus a worker's start under a loaded machine), not the bomb's ~50 s.
  expect(Date.now() - started).toBeLessThan(40_000);
  const runs = (await (await s.api('/api/v1/runs')).json()) as { runs: unknown[] };
  expect(runs.runs).toEqual([]);
});

it('compiles the next notebook on a fresh worker, and answers an identical one from the cache', async () => {
  const nb = JSON.parse(notebookText([code('const x: number = 1;', { task: 'a' }), code('const y: number = x + 1;', { task: 'b' })])) as Record<string, unknown>;
  const first = CompileResponse.parse(await (await s.api('/api/v1/compile', { method: 'POST', json: { notebook: nb } })).json());
  expect(first.ok).toBe(true);
  const t0 = Date.now();
  const again = CompileResponse.parse(await (await s.api('/api/v1/compile', { method: 'POST', json: { notebook: nb } })).json());
  expect(again).toEqual(first);
  expect(Date.now() - t0).toBeLessThan(2000);
});
