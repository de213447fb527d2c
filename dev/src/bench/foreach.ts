/**
 * Dynamic-task figures (issue 17's targets): a 10,000-element foreach of a trivial task on
 * the local executor (wall time, peak RSS of the engine process), and 1,000 elements
 * through the real API server and the test node (pods created per second, API calls
 * retried). Printed, never asserted. `CELLGRAPH_BENCH_FOREACH_N` / `_KUBE_N` shrink them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunSummary, WorkflowIR } from '@cellgraph/schema';
import { bindImage } from '@cellgraph/server/dist/runtime/kubernetes';
import { compileNotebook } from '@cellgraph/server/dist/compiler';
import { Engine } from '@cellgraph/server/dist/engine/engine';
import type { AttemptHandle, AttemptSpec, Executor } from '@cellgraph/server/dist/executors/executor';
import { LocalExecutor } from '@cellgraph/server/dist/executors/local/local-executor';
import { SqliteStateStore } from '@cellgraph/server/dist/state/sqlite-state-store';
import { FilesystemStore } from '@cellgraph/server/dist/stores';
import { startTestCluster } from '../services/test-cluster';
import { benchExecutor } from './kubernetes';
import { foreachNotebook } from './notebooks';

type Report = (name: string, value: number, unit: string, target?: string) => void;

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** A project directory with the notebook, the repository's packages and lockfile. */
function project(root: string, name: string, n: number): { dir: string; file: string; text: string; ir: WorkflowIR } {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(dir, 'package-lock.json'));
  const file = path.join(dir, `${name}.ipynb`);
  const text = foreachNotebook(n);
  fs.writeFileSync(file, text);
  const compiled = compileNotebook({ path: file, text });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
  return { dir, file, text, ir: compiled.ir };
}

/** The summed RSS of this process's children (the task processes), from /proc. */
function childrenRss(): number {
  let sum = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command's closing parenthesis: state, ppid, ...; rss (pages) is the 24th field.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid) sum += Number(fields[21]) * 4096;
    } catch {
      // The process ended meanwhile.
    }
  }
  return sum;
}

/** Runs the project once; wall time, the engine process's peak RSS and the task processes' (summed). */
async function timedRun(
  engine: Engine,
  p: { dir: string; file: string; text: string; ir: WorkflowIR }
): Promise<{ summary: RunSummary; ms: number; peakMiB: number; childrenPeakMiB: number }> {
  let peak = process.memoryUsage().rss;
  let childrenPeak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const childSampler = setInterval(() => (childrenPeak = Math.max(childrenPeak, childrenRss())), 500);
  const t0 = performance.now();
  const summary = await (await engine.startRun({ ir: p.ir, notebookText: p.text, notebookPath: p.file, workDir: p.dir })).done;
  const ms = performance.now() - t0;
  clearInterval(sampler);
  clearInterval(childSampler);
  if (summary.status !== 'succeeded') throw new Error(`foreach bench run ${summary.status}: ${JSON.stringify(summary.tasks.filter((t) => t.error))}`);
  return { summary, ms, peakMiB: Math.max(peak, process.memoryUsage().rss) / 1024 / 1024, childrenPeakMiB: childrenPeak / 1024 / 1024 };
}

/**
 * Completes attempts at once in process, filing the values the notebook's tasks would
 * (the list, each element doubled, a total): the engine's own cost, splitting the list and
 * collecting the elements included, without process start-up.
 */
class InstantForeachExecutor implements Executor {
  readonly name = 'instant';
  constructor(private readonly store: FilesystemStore) {}
  launch(spec: AttemptSpec): AttemptHandle {
    const done = (async () => {
      const inv = spec.invocation;
      const n = Number(inv.params.n);
      const value = inv.task === 'make' ? Array.from({ length: n }, (_, i) => i) : inv.task === 'double' ? (inv.element ?? 0) * 2 : 0;
      const name = Object.keys(inv.outputTypes)[0];
      const ref = await this.store.putBlob(Buffer.from(JSON.stringify(value)));
      const outputs = [{ name, type: inv.outputTypes[name], ...ref }];
      return { kind: 'reported' as const, result: { status: 'succeeded' as const, outputs, metrics: {}, cells: [], startedAt: new Date().toISOString(), durationMs: 0 }, log: '' };
    })();
    return { done, cancel: () => undefined };
  }
  async recoverAttempt(): Promise<undefined> {
    return undefined;
  }
}

function localEngine(dir: string, executor: (store: FilesystemStore) => Executor): { engine: Engine; state: SqliteStateStore } {
  const store = new FilesystemStore(path.join(dir, '.cellgraph'));
  const state = SqliteStateStore.open(path.join(dir, '.cellgraph', 'state.db'));
  return { engine: new Engine({ store, storeConfig: { kind: 'filesystem', root: store.root }, state, executor: executor(store) }), state };
}

export async function benchForeach(root: string, report: Report): Promise<void> {
  const n = Number(process.env.CELLGRAPH_BENCH_FOREACH_N ?? 10_000);
  const before = process.memoryUsage().rss;
  // The engine's own share: elements complete at once in process (no outputs to collect).
  const instant = project(root, 'instant', n);
  const a = localEngine(instant.dir, (store) => new InstantForeachExecutor(store));
  const engineOnly = await timedRun(a.engine, instant);
  await a.state.close();
  report(`${n}-element foreach, engine only (instant executor): wall time`, engineOnly.ms / 1000, 's');
  report(`${n}-element foreach, engine only: peak RSS of the engine process`, engineOnly.peakMiB, 'MiB');
  report(`${n}-element foreach, engine only: RSS before the run`, before / 1024 / 1024, 'MiB');

  // Elements in batch processes (docs/dynamic-workflows.md); CELLGRAPH_BENCH_FOREACH_LOCAL_N measures fewer.
  const localN = Number(process.env.CELLGRAPH_BENCH_FOREACH_LOCAL_N ?? n);
  const real = project(root, 'local', localN);
  const b = localEngine(real.dir, (store) => new LocalExecutor({ store }));
  const load = os.loadavg()[0];
  const cpu0 = process.cpuUsage();
  const run = await timedRun(b.engine, real);
  const cpu = process.cpuUsage(cpu0);
  report(`${localN}-element foreach of a trivial task, local executor (elements in batch processes): wall time`, run.ms / 1000, 's', localN === 10_000 ? '<= 60 s on 2 cores' : undefined);
  report(`${localN}-element foreach, local: per element`, run.ms / localN, 'ms');
  report(`${localN}-element foreach, local: engine process CPU per element`, (cpu.user + cpu.system) / 1000 / localN, 'ms');
  report(`${localN}-element foreach, local: peak RSS of the engine process`, run.peakMiB, 'MiB');
  report(`${localN}-element foreach, local: peak RSS of the task processes (summed)`, run.childrenPeakMiB, 'MiB');
  report(`${localN}-element foreach, local: load average (1 min) before / after`, load, `/ ${os.loadavg()[0].toFixed(1)}`);
  const cached = await timedRun(b.engine, real);
  const elements = cached.summary.tasks.find((t) => t.name === 'double')?.elements;
  if (elements?.cached !== localN) throw new Error(`expected ${localN} cached elements, got ${JSON.stringify(elements)}`);
  report(`${localN}-element foreach re-run, every element cached: wall time`, cached.ms / 1000, 's');
  await b.state.close();
}

export async function benchForeachKubernetes(root: string, report: Report): Promise<void> {
  const n = Number(process.env.CELLGRAPH_BENCH_FOREACH_KUBE_N ?? 1000);
  const cluster = await startTestCluster({ namespace: 'bench-foreach' });
  Object.assign(process.env, cluster.s3.env);
  try {
    const p = project(root, 'kube', n);
    const ir = await bindImage({ ir: p.ir, notebookPath: p.file, notebookText: p.text, home: path.join(p.dir, '.cellgraph'), flags: { push: `${cluster.registry.host}/bench/foreach`, base: cluster.baseImage } });
    const { storeConfig, store, timings, executor } = await benchExecutor(cluster, 'foreach');
    const state = SqliteStateStore.open(path.join(p.dir, 'state.db'));
    const engine = new Engine({ store, storeConfig, state, executor, concurrency: 64 });
    const t0 = performance.now();
    const summary = await (await engine.startRun({ ir, notebookText: p.text, notebookPath: p.file, workDir: p.dir })).done;
    const wallMs = performance.now() - t0;
    executor.stop();
    await state.close();
    if (summary.status !== 'succeeded') throw new Error(`foreach kube bench ${summary.status}: ${JSON.stringify(summary.tasks.filter((t) => t.error))}`);
    const created = timings.filter((t) => t.createdAt !== undefined).map((t) => t.createdAt as number).sort((x, y) => x - y);
    const spanS = (created[created.length - 1] - created[0]) / 1000;
    report(`${n}-element foreach on the test cluster: pods created per second (first to last create)`, (created.length - 1) / spanS, 'pods/s');
    // The engine starts 64 elements at once: their creates show the pacing (default 20/s), not the node's speed.
    const byRequest = [...timings].sort((x, y) => x.createRequestedAt - y.createRequestedAt).slice(0, 64).filter((t) => t.createdAt !== undefined);
    const burstS = (Math.max(...byRequest.map((t) => t.createdAt as number)) - byRequest[0].createRequestedAt) / 1000;
    report(`${n}-element foreach: the first 64 creates (one burst), pods created per second`, byRequest.length / burstS, 'pods/s');
    report(`${n}-element foreach on the test cluster: wall time (one test node)`, wallMs / 1000, 's');
    report(`${n}-element foreach on the test cluster: API calls retried (throttling / 5xx / connection)`, executor.stats.apiRetries, 'calls');
    report(`${n}-element foreach on the test cluster: system retries`, executor.stats.systemRetries, 'pods');
  } finally {
    await cluster.stop();
  }
}
