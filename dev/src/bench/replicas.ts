/**
 * Production control plane figures (issue 13's targets): `cellgraph server` replicas on one
 * private PostgreSQL cluster. Failover (SIGKILL of the replica running the runs -> the
 * survivor records their next task event), fire latency with two replicas and 100 runs in
 * flight, and control-plane throughput (task transitions recorded per second) with one
 * replica and with two: through real servers and task processes, and for the engine and
 * database alone. Printed, never asserted.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { PromoteResponse } from '@cellgraph/schema';
import { startPostgresCluster, type PostgresCluster } from '../services/postgres';
import { fanNotebook } from './notebooks';
import { BenchServer, Report, percentile, project, runDetail, sleepyChain, startServer, stopServer, waitForRun } from './server';

/** Starts `n` replicas over one database and one shared work directory (the artifact store is shared too). */
async function replicas(dir: string, url: string, token: string, n: number, concurrency: number): Promise<BenchServer[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => startServer(dir, token, ['--concurrency', String(concurrency)], { CELLGRAPH_DATABASE_URL: url, CELLGRAPH_REPLICA_ID: `bench-${i}` }))
  );
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Task transitions per second: 20 runs of a 10-task fan (no cache: every task runs, 200 task
 * processes), submitted round-robin to the replicas; transitions = task events recorded
 * (running, succeeded, ...) between the first submit and the last run's end.
 */
async function throughput(root: string, cluster: PostgresCluster, n: number, report: Report): Promise<void> {
  const runsN = 20;
  const dir = project(path.join(root, `throughput-${n}`));
  const url = await cluster.createDatabase(`throughput_${n}`);
  const token = randomBytes(24).toString('hex');
  const servers = await replicas(dir, url, token, n, 4);
  try {
    const notebook = JSON.parse(fanNotebook(8)) as unknown;
    const submit = (s: BenchServer) => s.api('/api/v1/runs', { method: 'POST', json: { notebook, notebookName: 'fan10.ipynb', noCache: true } });
    await waitForRun(servers[0], (await runDetail(await submit(servers[0]))).runId, 60_000); // warm-up: compile cached
    const before = Number((await query<{ n: string }>(url, "SELECT COUNT(*) AS n FROM events WHERE kind = 'task'"))[0].n);
    const t0 = Date.now();
    const ids = await Promise.all(Array.from({ length: runsN }, async (_, i) => ({ s: servers[i % n], id: (await runDetail(await submit(servers[i % n]))).runId })));
    const done = await Promise.all(ids.map(({ s, id }) => waitForRun(s, id, 600_000)));
    const wallMs = Math.max(...done.map((r) => Date.parse(r.finishedAt ?? ''))) - t0;
    const after = Number((await query<{ n: string }>(url, "SELECT COUNT(*) AS n FROM events WHERE kind = 'task'"))[0].n);
    const failed = done.filter((r) => r.status !== 'succeeded').length;
    report(`${n} replica(s), ${runsN} runs x 10 tasks (no cache, concurrency 4 each): failed runs`, failed, 'count', '0');
    report(`  task transitions recorded per second (${after - before} in ${wallMs} ms)`, ((after - before) / wallMs) * 1000, 'transitions/s');
  } finally {
    await Promise.all(servers.map(stopServer));
  }
}

/**
 * Failover: 8 runs of a 3-task chain (1 s per task) on replica A, replica B idle. A is
 * SIGKILLed once 4 tasks succeeded; figure = kill -> B records the first task event of an
 * adopted run (runs progressing again), and kill -> every run finished.
 */
async function failover(root: string, cluster: PostgresCluster, report: Report): Promise<void> {
  const dir = project(path.join(root, 'failover'));
  const url = await cluster.createDatabase('failover');
  const token = randomBytes(24).toString('hex');
  const [a, b] = await replicas(dir, url, token, 2, 4);
  try {
    const notebook = sleepyChain(3, 1000);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await runDetail(await a.api('/api/v1/runs', { method: 'POST', json: { notebook, notebookName: 'sleepy.ipynb', noCache: true } }))).runId);
    const end = Date.now() + 120_000;
    for (;;) {
      const [{ n: succeeded }] = await query<{ n: string }>(url, "SELECT COUNT(*) AS n FROM task_runs WHERE status = 'succeeded'");
      if (Number(succeeded) >= 4) break;
      if (Date.now() > end) throw new Error('failover bench: tasks did not progress');
      await new Promise((r) => setTimeout(r, 100));
    }
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = new Date();
    let progressMs = NaN;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const rows = await query<{ time: string }>(url, "SELECT MIN(time) AS time FROM events WHERE kind = 'task' AND time > $1", [killedAt.toISOString()]);
      if (rows[0]?.time) {
        progressMs = Date.parse(rows[0].time) - killedAt.getTime();
        break;
      }
    }
    const results = await Promise.all(ids.map((id) => waitForRun(b, id, 180_000)));
    const doneMs = Date.now() - killedAt.getTime();
    report('failover: SIGKILL of the replica running 8 runs -> survivor records their next task event', progressMs, 'ms', '<= 15000 ms');
    report('  SIGKILL -> every adopted run finished', doneMs, 'ms');
    report('  runs not succeeded', results.filter((r) => r.status !== 'succeeded').length, 'count', '0');
  } finally {
    await Promise.all([a, b].map(stopServer));
  }
}

/**
 * Fire latency across replicas: two replicas, 100 runs in flight (1-task runs sleeping 30 s,
 * 50 on each), 10 every-minute schedules; over two minute boundaries every fire's latency =
 * its run's created_at - its scheduled second (whichever replica won the claim).
 */
async function fireLatency(root: string, cluster: PostgresCluster, report: Report): Promise<void> {
  const dir = project(path.join(root, 'fires'));
  const url = await cluster.createDatabase('fires');
  const token = randomBytes(24).toString('hex');
  const servers = await replicas(dir, url, token, 2, 4);
  try {
    const sleeper = sleepyChain(1, 30_000);
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => runDetail(await servers[i % 2].api('/api/v1/runs', { method: 'POST', json: { notebook: sleeper, notebookName: 'sleeper.ipynb', noCache: true } })))
    );
    const promoted = PromoteResponse.parse(
      await (await servers[0].api('/api/v1/workflows/promote', { method: 'POST', json: { notebook: JSON.parse(fanNotebook(1)) as unknown, notebookName: 'tick.ipynb' } })).json()
    );
    for (let i = 0; i < 10; i++) {
      const res = await servers[i % 2].api('/api/v1/schedules', { method: 'POST', json: { id: `tick-${i}`, workflow: 'tick', version: promoted.version.version, cron: '* * * * *', concurrencyPolicy: 'Allow' } });
      if (res.status !== 201) throw new Error(`schedule: HTTP ${res.status} ${await res.text()}`);
    }
    const t0 = Date.now();
    const boundary2 = Math.ceil((t0 + 6000) / 60_000) * 60_000 + 60_000; // the second boundary all replicas know every schedule for
    await new Promise((r) => setTimeout(r, boundary2 - Date.now() + 5000));
    const rows = await query<{ id: string; created_at: string; options: string }>(url, "SELECT id, created_at, options FROM runs WHERE id LIKE 's-tick-%'");
    const lat = rows.map((r) => Date.parse(r.created_at) - Date.parse((JSON.parse(r.options) as { scheduledFor: string }).scheduledFor));
    const claims = await query<{ n: string }>(url, 'SELECT COUNT(*) AS n FROM schedule_fires');
    const inFlight = await query<{ n: string }>(url, "SELECT COUNT(*) AS n FROM runs WHERE status IN ('queued', 'running') AND id NOT LIKE 's-%'");
    report(`fires across 2 replicas, 10 every-minute schedules, ${inFlight[0].n} other runs still in flight: fires (runs = claims)`, rows.length, 'count');
    report('  claims recorded', Number(claims[0].n), 'count');
    report('  fire latency (scheduled second -> run recorded) p50', percentile(lat, 50), 'ms');
    report('  fire latency p99', percentile(lat, 99), 'ms', '<= 1000 ms');
  } finally {
    await Promise.all(servers.map(stopServer));
  }
}

/**
 * The control plane alone: `n` worker processes (engine + PostgreSQL, instant executor, no
 * task processes), together 40 runs of a 200-task DAG, each worker its share; figure = task
 * transitions recorded per second across all of them, first start -> last end.
 */
async function controlPlane(root: string, cluster: PostgresCluster, n: number, report: Report): Promise<void> {
  const url = await cluster.createDatabase(`control_plane_${n}`);
  const runs = 40;
  const worker = path.join(__dirname, 'control-plane-worker.js');
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const dir = path.join(root, `control-plane-${n}-${i}`);
      fs.mkdirSync(dir, { recursive: true });
      return new Promise<{ transitions: number; ms: number }>((resolve, reject) => {
        execFile(process.execPath, [worker, url, String(runs / n), '200', dir], { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}
${stderr}`)) : resolve(JSON.parse(stdout) as { transitions: number; ms: number })
        );
      });
    })
  );
  const wallMs = performance.now() - t0;
  const transitions = results.reduce((sum, r) => sum + r.transitions, 0);
  report(`control plane alone (engine + PostgreSQL, instant tasks), ${n} process(es), ${runs} runs x 200 tasks: transitions/s`, (transitions / wallMs) * 1000, 'transitions/s');
}

/** The `replicas` bench section: one private PostgreSQL cluster, stopped by PID at the end. */
export async function benchReplicas(root: string, report: Report): Promise<void> {
  // In its own temporary directory: the server's user (postgres, under root) must reach it.
  const cluster = await startPostgresCluster();
  try {
    await controlPlane(root, cluster, 1, report);
    await controlPlane(root, cluster, 2, report);
    await failover(root, cluster, report);
    await throughput(root, cluster, 1, report);
    await throughput(root, cluster, 2, report);
    await fireLatency(root, cluster, report);
  } finally {
    await cluster.stop();
  }
}
