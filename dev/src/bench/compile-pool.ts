/**
 * Compile pool figures (issue 13): the real `cellgraph server` process while compiles run
 * in its worker pool. `GET /health` latency idle, during 50 cold compiles at once, and
 * during the type bomb; 30 identical compiles at once against one; the bomb's time to its
 * 422. Printed, never asserted.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { typeBombNotebook, typedNotebook } from './notebooks';
import { percentile, project, startServer, stopServer, type BenchServer, type Report } from './server';

/** The bomb's compiles stop here (the default, 60 s, would only make the bench longer). */
const BENCH_TIME_LIMIT_SECONDS = 15;

/** A notebook no compile has seen: the typed notebook with a unique constant. */
function coldNotebook(cells: number, tag: string): unknown {
  const nb = JSON.parse(typedNotebook(cells)) as { cells: { source: string }[] };
  nb.cells[1].source += `\nconst tag = ${JSON.stringify(tag)};`;
  return nb;
}

/**
 * Probes GET /health every `everyMs` until `stop` settles; returns each answer's latency.
 * The prober is a thread of its own: this thread parses 50 compile answers meanwhile, and
 * its pauses must not count as the server's.
 */
async function probeHealth(s: BenchServer, stop: Promise<unknown>, everyMs = 20): Promise<number[]> {
  const prober = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const ms = [];
     let done = false;
     parentPort.once('message', () => (done = true));
     (async () => {
       while (!done) {
         const t0 = performance.now();
         const res = await fetch(workerData.url);
         await res.arrayBuffer();
         ms.push(performance.now() - t0);
         await new Promise((r) => setTimeout(r, workerData.everyMs));
       }
       parentPort.postMessage(ms);
     })();`,
    { eval: true, workerData: { url: `${s.url}/api/v1/health`, everyMs } }
  );
  const answer = new Promise<number[]>((resolve, reject) => {
    prober.once('message', (ms: number[]) => resolve(ms));
    prober.once('error', reject);
  });
  await stop.catch(() => undefined);
  prober.postMessage('stop');
  const ms = await answer;
  await prober.terminate();
  return ms;
}

async function compile(s: BenchServer, notebook: unknown): Promise<{ ms: number; status: number; code?: string }> {
  const t0 = performance.now();
  const res = await s.api('/api/v1/compile', { method: 'POST', json: { notebook } });
  const body = (await res.json()) as { ok?: boolean; error?: { code: string } };
  if (res.status === 200 && body.ok !== true) throw new Error(`bench notebook does not compile: ${JSON.stringify(body).slice(0, 400)}`);
  return { ms: performance.now() - t0, status: res.status, code: body.error?.code };
}

function healthFigures(report: Report, during: string, ms: number[], target?: string): void {
  report(`/health p50 ${during} (${ms.length} probes)`, percentile(ms, 50), 'ms');
  report(`/health p99 ${during}`, percentile(ms, 99), 'ms', target);
  report(`/health max ${during}`, Math.max(...ms), 'ms');
}

export async function benchCompilePool(root: string, report: Report): Promise<void> {
  const dir = project(path.join(root, 'pool'));
  const s = await startServer(dir, randomBytes(24).toString('hex'), ['--compile-timeout-seconds', String(BENCH_TIME_LIMIT_SECONDS)]);
  try {
    const idle = await probeHealth(s, new Promise((r) => setTimeout(r, 3000)));
    healthFigures(report, 'idle', idle);

    // Warms the workers (TypeScript's libraries parsed once per worker), as a running server is.
    await Promise.all([compile(s, coldNotebook(6, 'warm-a')), compile(s, coldNotebook(6, 'warm-b'))]);

    const n = 50;
    const t0 = performance.now();
    const cold = Promise.all(Array.from({ length: n }, (_, i) => compile(s, coldNotebook(12, `cold-${i}`))));
    const during = await probeHealth(s, cold);
    const results = await cold;
    report(`${n} cold compiles (12-cell typed notebooks) at once: wall time`, performance.now() - t0, 'ms');
    report(`${n} cold compiles: latency p50`, percentile(results.map((r) => r.ms), 50), 'ms');
    healthFigures(report, `while ${n} cold compiles run`, during, '<= 50 ms');

    const one = await compile(s, coldNotebook(12, 'single'));
    report('1 cold compile alone', one.ms, 'ms');
    const t1 = performance.now();
    const same = coldNotebook(12, 'identical');
    await Promise.all(Array.from({ length: 30 }, () => compile(s, same)));
    report('30 identical cold compiles at once: wall time (one flight)', performance.now() - t1, 'ms');

    const t2 = performance.now();
    const bomb = compile(s, JSON.parse(typeBombNotebook()));
    const duringBomb = await probeHealth(s, bomb);
    const answer = await bomb;
    report(`type bomb: time to its ${answer.status} ${answer.code ?? ''} (limit ${BENCH_TIME_LIMIT_SECONDS} s)`, performance.now() - t2, 'ms');
    healthFigures(report, 'while the type bomb compiles', duringBomb, '<= 50 ms');
  } finally {
    await stopServer(s);
  }
}
