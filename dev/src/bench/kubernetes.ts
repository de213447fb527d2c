/**
 * Kubernetes figures (issue 6's targets), on the real API server with the test node agent:
 * control-plane overhead per task (pod create requested → pod observed finished, minus the
 * task's own time as its runner measured it) and a 200-task fan-out through the API
 * server (pods created per second, API retries). Printed, never asserted.
 *
 * What the overhead includes here: the API round trips, the informer's watch latency,
 * binding by the node agent, its start of the container process under chroot (node's
 * start-up and loading the runtime; the image is pulled and unpacked once, first), status
 * updates, and reading the result from S3. A real kubelet adds its own container-runtime
 * costs instead of chroot's; nothing here simulates those.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkflowIR } from '@cellgraph/schema';
import { bindImage } from '@cellgraph/server/dist/runtime/kubernetes';
import { compileNotebook } from '@cellgraph/server/dist/compiler';
import { TestCluster, startTestCluster } from '../services/test-cluster';
import { Engine } from '@cellgraph/server/dist/engine/engine';
import { KubernetesExecutor, PodTiming } from '@cellgraph/server/dist/executors/kubernetes/kubernetes-executor';
import { KubernetesTarget } from '@cellgraph/server/dist/executors/kubernetes/pod-spec';
import { SqliteStateStore } from '@cellgraph/server/dist/state/sqlite-state-store';
import { openStore } from '@cellgraph/server/dist/stores';
import { chainNotebook, fanNotebook } from './notebooks';

type Report = (name: string, value: number, unit: string, target?: string) => void;

const ROOT = path.resolve(__dirname, '..', '..', '..');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A started Kubernetes executor on the test cluster over the S3 store under `prefix`, recording pod timings. */
export async function benchExecutor(cluster: TestCluster, prefix: string) {
  const storeConfig = cluster.storeConfig(prefix);
  const store = openStore(storeConfig);
  const timings: PodTiming[] = [];
  const executor = new KubernetesExecutor({
    kubeConfig: cluster.kc,
    target: KubernetesTarget.parse({ namespace: cluster.namespace, env: cluster.s3.env, podGC: 'always' }),
    store,
    onPodFinished: (t) => timings.push(t)
  });
  await executor.start();
  return { storeConfig, store, timings, executor };
}

export async function benchKubernetes(root: string, report: Report): Promise<void> {
  const cluster = await startTestCluster({ namespace: 'bench' });
  // This process (the engine) reaches S3 through the AWS SDK's usual chain: the environment.
  Object.assign(process.env, cluster.s3.env);
  try {
    const run = async (name: string, text: string, concurrency: number) => {
      const dir = path.join(root, name);
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(dir, 'package-lock.json'));
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
      const file = path.join(dir, `${name}.ipynb`);
      fs.writeFileSync(file, text);
      const compiled = compileNotebook({ path: file, text });
      if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
      const ir: WorkflowIR = await bindImage({ ir: compiled.ir, notebookPath: file, notebookText: text, home: path.join(dir, '.cellgraph'), flags: { push: `${cluster.registry.host}/bench/${name}`, base: cluster.baseImage } });
      const { storeConfig, store, timings, executor } = await benchExecutor(cluster, name);
      const state = SqliteStateStore.open(path.join(dir, 'state.db'));
      const engine = new Engine({ store, storeConfig, state, executor, concurrency });
      const t0 = performance.now();
      const summary = await (await engine.startRun({ ir, notebookText: text, notebookPath: file, workDir: dir })).done;
      const wallMs = performance.now() - t0;
      executor.stop();
      await state.close();
      if (summary.status !== 'succeeded') throw new Error(`bench run ${name} ${summary.status}: ${JSON.stringify(summary.tasks.filter((t) => t.error))}`);
      return { timings, wallMs, executor, tasks: summary.tasks.length };
    };

    // Warm-up: the node agent pulls and unpacks the image once per digest.
    await run('warmup', chainNotebook(2), 1);

    const chain = await run('chain', chainNotebook(30), 1);
    // The first pod of an image waits for the node to pull and unpack it: reported apart.
    const [first, ...rest] = [...chain.timings].sort((a, b) => a.createRequestedAt - b.createRequestedAt);
    const overhead = rest.map((t) => t.observedFinishedAt - t.createRequestedAt - (t.taskMs ?? 0));
    const toRunning = rest.filter((t) => t.observedRunningAt).map((t) => (t.observedRunningAt as number) - t.createRequestedAt);
    report('control-plane overhead per task, p50 (create → observed finished − task time; 30-task chain, image on the node)', percentile(overhead, 50), 'ms');
    report('control-plane overhead per task, p99', percentile(overhead, 99), 'ms');
    report('pod create requested → observed Running, p50', percentile(toRunning, 50), 'ms');
    report("first pod of a new image: the same, including the node's pull + unpack", first.observedFinishedAt - first.createRequestedAt - (first.taskMs ?? 0), 'ms');

    const fan = await run('fan', fanNotebook(198), 64);
    const byRequest = [...fan.timings].sort((a, b) => a.createRequestedAt - b.createRequestedAt);
    // The 198 parallel tasks are launched at once (engine concurrency 64): the first 64 creates are one burst.
    const burst = byRequest.slice(1, 65).filter((t) => t.createdAt !== undefined);
    const burstMs = Math.max(...burst.map((t) => t.createdAt as number)) - Math.min(...burst.map((t) => t.createRequestedAt));
    report('200-task fan-out: a burst of 64 pod creates, pods created per second', burst.length / (burstMs / 1000), 'pods/s');
    report('200-task fan-out: wall time (one test node running 4 pods at once on 2 cores)', fan.wallMs / 1000, 's');
    report('200-task fan-out: throughput', fan.tasks / (fan.wallMs / 1000), 'tasks/s');
    report('200-task fan-out: API calls retried (throttling / 5xx / connection)', fan.executor.stats.apiRetries, 'calls');
    report('200-task fan-out: system retries', fan.executor.stats.systemRetries, 'pods');
  } finally {
    await cluster.stop();
  }
}
