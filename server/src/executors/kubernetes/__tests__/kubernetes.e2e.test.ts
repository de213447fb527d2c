/**
 * The Kubernetes executor end to end, on real components started here: kube-apiserver +
 * etcd, the test node agent (binds pods, pulls with skopeo, unpacks with umoci, runs under
 * chroot, reports status through the API), a registry holding the workflow images, and an
 * S3-compatible server (moto) for artifacts. Faults are real too: pods OOM-killed by their
 * memory limit, deleted or evicted mid-run, the API server restarted mid-run, S3 cut off.
 * Fails (never skips) when a component is missing: scripts/setup.sh installs them all.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { RunDetail, RunLogsResponse, RunSummary, StoreConfig, TaskElementsResponse, WorkflowIR, attemptKey } from '@cellgraph/schema';
import { bindImage } from '../../../runtime/kubernetes';
import { compileNotebook } from '../../../compiler';
import { TestCluster, startTestCluster } from '@cellgraph/dev/services/test-cluster';
import { strictDryRunCreate } from '@cellgraph/dev/services/kube-apiserver';
import { Engine, RunHandle } from '../../../engine/engine';
import { LeaseLostError } from '../../../errors';
import { SqliteStateStore } from '../../../state/sqlite-state-store';
import { openStore } from '../../../stores';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { startTcpProxy } from '@cellgraph/dev/test-support/tcp-proxy';
import { startServerProcess, stopAllServers, waitFor } from '@cellgraph/dev/test-support/server-process';
import { KubernetesExecutor } from '../kubernetes-executor';
import { KubernetesTarget, PodLabels, podForAttempt } from '../pod-spec';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');
const CLI = path.join(ROOT, 'server', 'dist', 'cli', 'main.js');
let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  cluster = await startTestCluster({ target: { stuckPendingSeconds: 8 } });
  // In-process engines reach S3 with the AWS SDK's usual chain: the environment.
  Object.assign(process.env, cluster.s3.env);
}, 240_000);
afterAll(async () => {
  await cluster?.stop();
});
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-kube-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

/** A project as a user has one: the notebook, the lockfile, installed packages. */
function project(name: string, notebook: string | { example: string }): { dir: string; file: string; text: string } {
  const dir = path.join(work, name);
  if (typeof notebook === 'string') {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.ipynb`), notebook);
  } else {
    fs.cpSync(path.join(ROOT, 'examples', notebook.example), dir, { recursive: true, filter: (s) => !/[\\/](out|\.cellgraph)$/.test(s) });
  }
  fs.copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(dir, 'package-lock.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const file = path.join(dir, `${name}.ipynb`);
  return { dir, file, text: fs.readFileSync(file, 'utf8') };
}

function cli(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, XDG_STATE_HOME: path.join(work, 'xdg'), CELLGRAPH_HOME: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (c) => resolve({ code: c ?? -1, stdout, stderr }));
  });
}

/** Pods of a run, from the API server (what `kubectl get pods -l cellgraph.dev/run=...` shows). */
async function podsOf(runId: string): Promise<k8s.V1Pod[]> {
  const list = await cluster.core.listNamespacedPod({ namespace: cluster.namespace, labelSelector: `${PodLabels.run}=${runId}` });
  return list.items;
}

/** An engine on the Kubernetes executor, as `cellgraph run --executor kubernetes` builds it, in process. */
async function kubeEngine(storeConfig: StoreConfig, stateFile: string, target: Partial<KubernetesTarget> = {}) {
  const store = openStore(storeConfig);
  const executor = new KubernetesExecutor({
    kubeConfig: cluster.kc,
    target: KubernetesTarget.parse({ namespace: cluster.namespace, env: cluster.s3.env, stuckPendingSeconds: 8, ...target }),
    store,
    logPollMs: 250
  });
  await executor.start();
  const state = SqliteStateStore.open(stateFile);
  const engine = new Engine({ store, storeConfig, state, executor, concurrency: 8, backoff: { baseMs: 100, maxMs: 500 } });
  return { engine, executor, state, store };
}

async function compiledWithImage(p: { dir: string; file: string; text: string }, repository: string): Promise<WorkflowIR> {
  const compiled = compileNotebook({ path: p.file, text: p.text });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
  return bindImage({ ir: compiled.ir, notebookPath: p.file, notebookText: p.text, home: path.join(p.dir, '.cellgraph'), flags: { push: `${cluster.registry.host}/${repository}`, base: cluster.baseImage } });
}

async function startRun(engine: Engine, ir: WorkflowIR, p: { dir: string; file: string; text: string }): Promise<RunHandle> {
  return engine.startRun({ ir, notebookText: p.text, notebookPath: p.file, workDir: p.dir });
}

/** Resolves when a pod of the run for `task` is Running (per the API server). */
async function podRunning(runId: string, task: string, timeoutMs = 60_000): Promise<k8s.V1Pod> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pod = (await podsOf(runId)).find((p) => p.metadata?.labels?.[PodLabels.task] === task && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    if (pod) return pod;
    if (Date.now() > deadline) throw new Error(`no running pod for ${task} of ${runId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleepTask = (name: string, seconds: number, annotation: Record<string, unknown> = {}) =>
  code(`await new Promise((r) => setTimeout(r, ${seconds * 1000}));\nconsole.log('${name} slept ${seconds} s');\nconst ${name}Done = ${seconds};`, { task: name, ...annotation });

describe('pod manifests', () => {
  it("pass the API server's strict validation (server-side dry run with fieldValidation=Strict)", async () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const invocation = { runId: 'r-20261124t101010-abc123', task: 'train', attempt: 1, workflowVersion: digest, workDir: '/app/work', inputs: {}, outputTypes: {}, params: {}, store: cluster.storeConfig('x') };
    const target = KubernetesTarget.parse({
      namespace: cluster.namespace,
      serviceAccountName: 'runner',
      imagePullSecrets: ['regcred'],
      nodeSelector: { pool: 'gpu' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      env: { AWS_REGION: 'eu-west-1' },
      secretEnv: [{ env: 'AWS_SECRET_ACCESS_KEY', secret: 's3', key: 'secret' }]
    });
    const policy = { retries: 2, timeoutSeconds: 90, cache: true, resources: { cpu: '500m', memory: '1Gi', gpu: 2 }, env: { MODE: 'fast' }, secrets: [{ env: 'DB_PASSWORD', secret: 'db', key: 'password' }] };
    const manifest = podForAttempt({ workflow: 'iris', policy, invocation, image: { reference: `${cluster.registry.host}/team/iris:cg-1@${digest}`, digest }, target, systemRetry: 1 });
    // Sent as raw JSON: the client library's model classes would drop fields they do not know,
    // which is exactly what strict validation must see.
    const created = await dryRunCreate(manifest);
    expect(created.status).toBe(201);
    const body = created.body as k8s.V1Pod;
    expect(body.spec?.containers[0].resources?.limits?.['nvidia.com/gpu']).toBe('2');
    expect(body.spec?.activeDeadlineSeconds).toBe(90);
    // Dry run: nothing was created.
    expect((await podsOf(invocation.runId)).length).toBe(0);
    // And the validation is real: an unknown or misspelt field is refused in strict mode.
    const bad = await dryRunCreate({ ...manifest, spec: { ...manifest.spec, restartPolicyy: 'Never' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/restartPolicyy/);
  });
});

describe('cellgraph run --executor kubernetes', () => {
  it('runs hello in pods, values through S3, with the same summary, logs and executed notebook as a local run; a second run is cached', async () => {
    const p = project('hello', { example: 'hello' });
    const env = cluster.cliEnv('hello-cli', 'e2e/hello');
    const r = await cli(p.dir, env, 'run', 'hello.ipynb', '--executor', 'kubernetes', '--json', '-p', 'name=Kubernetes');
    if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stderr}\n${r.stdout}`);
    const summary = RunSummary.parse(JSON.parse(r.stdout));
    expect(summary.status).toBe('succeeded');
    expect(summary.tasks.every((t) => t.status === 'succeeded' && t.attempts === 1)).toBe(true);
    expect(r.stderr).toMatch(/executor kubernetes/);
    expect(r.stderr).toMatch(/push {2}/);
    // Each task ran as a pod of this run on the node; succeeded pods were garbage-collected.
    const ran = cluster.agent.history.filter((h) => h.name.startsWith(`cg-${summary.runId}`));
    expect(ran.map((h) => h.phase).sort()).toEqual(summary.tasks.map(() => 'Succeeded'));
    expect(await podsOf(summary.runId)).toEqual([]);
    // The executed notebook carries the pods' outputs.
    const executed = fs.readFileSync(summary.executedNotebook as string, 'utf8');
    expect(executed).toMatch(/Kubernetes/);
    // Logs archived by the runner survive the pods.
    const logs = await cli(p.dir, env, 'logs', summary.runId);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/Kubernetes/);
    // Unchanged notebook and image: every task cached, no pod started.
    const again = await cli(p.dir, env, 'run', 'hello.ipynb', '--executor', 'kubernetes', '--json', '-p', 'name=Kubernetes');
    expect(again.code).toBe(0);
    const cached = RunSummary.parse(JSON.parse(again.stdout));
    expect({ statuses: cached.tasks.map((t) => t.status), stderr: again.stderr }).toEqual({ statuses: cached.tasks.map(() => 'cached'), stderr: expect.stringMatching(/unchanged/) });
  });

  it('runs iris end to end: five pods, typed values through S3, both models above 0.85', async () => {
    const p = project('iris', { example: 'iris' });
    const r = await cli(p.dir, cluster.cliEnv('iris-cli', 'e2e/iris'), 'run', 'iris.ipynb', '--executor', 'kubernetes', '--json');
    if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stderr}\n${r.stdout}`);
    const summary = RunSummary.parse(JSON.parse(r.stdout));
    expect(summary.status).toBe('succeeded');
    expect(summary.tasks.map((t) => t.name).sort()).toEqual(['compare', 'knn', 'load', 'softmax', 'split']);
    const metrics = Object.assign({}, ...summary.tasks.map((t) => t.metrics)) as Record<string, number>;
    const accuracies = Object.entries(metrics).filter(([k]) => /accuracy/i.test(k));
    expect(accuracies.length).toBeGreaterThanOrEqual(2);
    for (const [, v] of accuracies) expect(v).toBeGreaterThan(0.85);
  });

  it('refuses bad configuration before anything runs, naming the setting', async () => {
    const p = project('hello', { example: 'hello' });
    const env = cluster.cliEnv('bad', 'e2e/bad');
    const fsStore = await cli(p.dir, { ...env, CELLGRAPH_STORE: '' }, 'run', 'hello.ipynb', '--executor', 'kubernetes');
    expect(fsStore.code).toBe(2);
    expect(fsStore.stderr).toMatch(/CELLGRAPH_STORE/);
    const badTarget = path.join(work, 'bad-target.json');
    fs.writeFileSync(badTarget, JSON.stringify({ podGC: 'sometimes' }));
    const target = await cli(p.dir, { ...env, CELLGRAPH_KUBE_TARGET: badTarget }, 'run', 'hello.ipynb', '--executor', 'kubernetes');
    expect(target.code).toBe(2);
    expect(target.stderr).toMatch(/podGC/);
    const noRepo = await cli(p.dir, { ...env, CELLGRAPH_IMAGE_REPO: '' }, 'run', 'hello.ipynb', '--executor', 'kubernetes');
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr).toMatch(/--push/);
    const unknown = await cli(p.dir, env, 'run', 'hello.ipynb', '--executor', 'nomad');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/local, kubernetes/);
  });
});

describe('cellgraph server --executor kubernetes', () => {
  afterEach(() => stopAllServers());

  it('promotes and runs a notebook in pods; after SIGKILL the restarted server re-attaches to the running pod instead of starting it again', async () => {
    const p = project('served', notebookText([sleepTask('slow', 5), code('const after = slowDone + 1;\nconsole.log(`after ${after}`);', { task: 'next' })]));
    const token = 't'.repeat(32);
    const env = cluster.cliEnv('served', 'e2e/served') as Record<string, string>;
    const args = ['--executor', 'kubernetes', '--home', path.join(p.dir, '.cellgraph')];
    const first = await startServerProcess(p.dir, { token, env, args });
    const promoted = await first.api('/api/v1/workflows/promote', { method: 'POST', json: { notebookPath: p.file } });
    expect(promoted.status).toBeLessThan(300);
    const started = await first.api('/api/v1/runs', { method: 'POST', json: { notebookPath: p.file } });
    expect(started.status).toBe(201);
    const { runId: id } = (await started.json()) as { runId: string };
    await podRunning(id, 'slow').catch((err: Error) => {
      throw new Error(`${err.message}\nserver log:\n${first.stderr()}`);
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startServerProcess(p.dir, { token, env, args });
    // Resumed before listening; the log line follows the `listening:` line on stdout.
    await waitFor(async () => (second.stderr().includes('resumed') ? true : undefined), 60_000, 'the restarted server to resume the run');
    expect(second.stderr()).toMatch(new RegExp(`resumed 1 unfinished run\\(s\\).*${id}`));
    let detail: { status: string; tasks: { name: string; attempts: number; status: string }[] } = { status: 'running', tasks: [] };
    for (let i = 0; i < 600 && ['queued', 'running'].includes(detail.status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      detail = (await (await second.api(`/api/v1/runs/${id}`)).json()) as typeof detail;
    }
    if (detail.status !== 'succeeded') throw new Error(`run ${detail.status}: ${JSON.stringify(detail)}\nserver log:\n${second.stderr()}`);
    expect(detail.tasks.map((t) => [t.name, t.attempts])).toEqual([
      ['slow', 1],
      ['next', 1]
    ]);
    // One pod per task: the slow one was followed again, not started twice.
    expect(cluster.agent.history.filter((h) => h.name.startsWith(`cg-${id}-slow`)).length).toBe(1);
    const logs = await (await second.api(`/api/v1/runs/${id}/logs`)).text();
    expect(logs).toMatch(/slow slept 5 s/);
  });
});

describe('faults', () => {
  it("an OOMKilled pod is the task's failure: retried under its own retries, then failed with the reason", async () => {
    const p = project('oom', notebookText([code("const big: Buffer[] = [];\nfor (let i = 0; i < 40; i++) { big.push(Buffer.alloc(16 * 1024 * 1024, 1)); await new Promise((r) => setTimeout(r, 20)); }\nconst kept = big.length;", { task: 'hog', retries: 1, resources: { memory: '96Mi' } })]));
    const ir = await compiledWithImage(p, 'faults/oom');
    const { engine, executor, state } = await kubeEngine(cluster.storeConfig('oom'), path.join(work, 'oom.db'));
    try {
      const summary = await (await startRun(engine, ir, p)).done;
      expect(summary.status).toBe('failed');
      const hog = summary.tasks[0];
      expect(hog.attempts).toBe(2);
      expect(hog.error).toMatch(/OOMKilled|out of memory/);
      expect(executor.stats.systemRetries).toBe(0);
      // Failed pods are kept (podGC onSuccess) for inspection.
      const pods = await podsOf(summary.runId);
      expect(pods.map((x) => x.status?.containerStatuses?.[0].state?.terminated?.reason)).toEqual(['OOMKilled', 'OOMKilled']);
    } finally {
      executor.stop();
      await state.close();
    }
  });

  it('a pod deleted mid-run and a pod evicted are system failures: started again without using the task retries', async () => {
    const p = project('lost', notebookText([sleepTask('first', 3), sleepTask('second', 3)]));
    const ir = await compiledWithImage(p, 'faults/lost');
    const { engine, executor, state, store } = await kubeEngine(cluster.storeConfig('lost'), path.join(work, 'lost.db'));
    try {
      const handle = await startRun(engine, ir, p);
      const first = await podRunning(handle.runId, 'first');
      await cluster.core.deleteNamespacedPod({ name: first.metadata?.name as string, namespace: cluster.namespace });
      const second = await podRunning(handle.runId, 'second');
      await cluster.agent.evict(cluster.namespace, second.metadata?.name as string);
      const summary = await handle.done;
      expect(summary.status).toBe('succeeded');
      expect(summary.tasks.map((t) => [t.name, t.attempts])).toEqual([
        ['first', 1],
        ['second', 1]
      ]);
      expect(executor.stats.systemRetries).toBe(2);
      // The log archived by the pod that finished the attempt.
      expect((await store.getFile(attemptKey(handle.runId, 'second', 1, 'log.txt'))).toString('utf8')).toMatch(/second slept/);
    } finally {
      executor.stop();
      await state.close();
    }
  });

  it('the API server restarted mid-run: the watch resumes, every task runs exactly once', async () => {
    const p = project('restart', notebookText([sleepTask('a', 4), sleepTask('b', 1, { after: ['a'] })]));
    const ir = await compiledWithImage(p, 'faults/restart');
    const { engine, executor, state } = await kubeEngine(cluster.storeConfig('restart'), path.join(work, 'restart.db'));
    try {
      const handle = await startRun(engine, ir, p);
      await podRunning(handle.runId, 'a');
      const listsBefore = executor.informer.stats.lists;
      await cluster.kube.restartApiServer();
      const summary = await handle.done;
      expect(summary.status).toBe('succeeded');
      expect(summary.tasks.map((t) => t.attempts)).toEqual([1, 1]);
      expect(executor.stats.podsCreated).toBe(2);
      expect(executor.stats.systemRetries).toBe(0);
      expect(executor.informer.stats.lists).toBeGreaterThan(listsBefore);
      expect(cluster.agent.history.filter((h) => h.name.startsWith(`cg-${handle.runId}`)).length).toBe(2);
    } finally {
      executor.stop();
      await state.close();
    }
  });

  it('a restarted engine re-attaches to the running pod by its labels instead of starting it again', async () => {
    const p = project('reattach', notebookText([sleepTask('slow', 4)]));
    const ir = await compiledWithImage(p, 'faults/reattach');
    const stateFile = path.join(work, 'reattach.db');
    const storeConfig = cluster.storeConfig('reattach');
    const first = await kubeEngine(storeConfig, stateFile);
    const handle = await startRun(first.engine, ir, p);
    await podRunning(handle.runId, 'slow');
    // The first process "dies": its watch stops and nothing it runs finishes the run.
    first.executor.stop();
    const second = await kubeEngine(storeConfig, stateFile);
    try {
      const run = await second.state.getRun(handle.runId);
      const tasks = await second.state.getTaskRuns(handle.runId);
      expect(tasks[0].status).toBe('running');
      const resumed = await second.engine.resumeRun({ ir, notebookText: p.text, workDir: p.dir, run, tasks });
      const summary = await resumed.done;
      expect(summary.status).toBe('succeeded');
      expect(summary.tasks[0].attempts).toBe(1);
      expect(second.executor.stats.podsCreated).toBe(0);
      expect(cluster.agent.history.filter((h) => h.name.startsWith(`cg-${handle.runId}`)).length).toBe(1);
    } finally {
      second.executor.stop();
      await second.state.close();
      await first.state.close();
    }
  });

  it('a replica giving a run up lets its pod run on (detached, not deleted) and records nothing; the new owner follows the same pod to the end', async () => {
    const p = project('giveup', notebookText([sleepTask('slow', 4), code('const after = slowDone + 1;', { task: 'next' })]));
    const ir = await compiledWithImage(p, 'faults/giveup');
    const stateFile = path.join(work, 'giveup.db');
    const storeConfig = cluster.storeConfig('giveup');
    const first = await kubeEngine(storeConfig, stateFile);
    const second = await kubeEngine(storeConfig, stateFile);
    try {
      const handle = await startRun(first.engine, ir, p);
      const pod = await podRunning(handle.runId, 'slow');
      // The lease went to another replica: this one lets go of the run, as the run service does.
      handle.abandon('lease taken over by replica b');
      await expect(handle.done).rejects.toThrow(LeaseLostError);
      expect(first.executor.attempts.size).toBe(0);
      expect(first.executor.stats.podsDeleted).toBe(0);
      // The pod is neither deleted nor stopped: it runs on, alone.
      const still = await cluster.core.readNamespacedPod({ name: pod.metadata?.name as string, namespace: cluster.namespace });
      expect(still.metadata?.deletionTimestamp).toBeUndefined();
      expect(['Running', 'Succeeded']).toContain(still.status?.phase);
      const tasks = await second.state.getTaskRuns(handle.runId);
      expect(tasks.map((t) => [t.task, t.status])).toEqual([
        ['slow', 'running'],
        ['next', 'pending']
      ]);
      // The new owner resumes the run: it follows the same pod instead of starting another.
      const run = await second.state.getRun(handle.runId);
      const summary = await (await second.engine.resumeRun({ ir, notebookText: p.text, workDir: p.dir, run, tasks })).done;
      expect(summary.status).toBe('succeeded');
      expect(summary.tasks.map((t) => [t.name, t.status, t.attempts])).toEqual([
        ['slow', 'succeeded', 1],
        ['next', 'succeeded', 1]
      ]);
      expect(second.executor.stats.podsCreated).toBe(1);
      expect(cluster.agent.history.filter((h) => h.name.startsWith(`cg-${handle.runId}-slow`)).length).toBe(1);
      // Nothing the first replica let go of wrote after it: the run's record is the new owner's.
      expect((await second.state.getRun(handle.runId)).status).toBe('succeeded');
    } finally {
      first.executor.stop();
      second.executor.stop();
      await first.state.close();
      await second.state.close();
    }
  });

  it('S3 cut off for a moment is ridden out with backoff; cut off for good, the task fails saying the store is unreachable', async () => {
    const proxy = await startTcpProxy(cluster.s3.port);
    try {
      const storeConfig: StoreConfig = { ...cluster.storeConfig('outage'), endpoint: `http://127.0.0.1:${proxy.port}` } as StoreConfig;
      const p = project('outage', notebookText([sleepTask('wait', 2), code('const doubled = waitDone * 2;', { task: 'use' })]));
      const ir = await compiledWithImage(p, 'faults/outage');
      const { engine, executor, state } = await kubeEngine(storeConfig, path.join(work, 'outage.db'));
      try {
        // Short: S3 goes away while `wait` runs, and comes back once clients have met the
        // outage for longer than one request's SDK retries (8 attempts): what is ridden out
        // is then the store's budget in time, whatever the machine's load did to the timing.
        const handle = await startRun(engine, ir, p);
        await podRunning(handle.runId, 'wait');
        proxy.down();
        await proxy.untilHungUp(12);
        proxy.up();
        const ok = await handle.done;
        expect(ok.status).toBe('succeeded');
        // For good: S3 goes away and stays away while the next run's task needs it.
        const p2 = project('outage2', notebookText([sleepTask('wait', 2), code('const tripled = waitDone * 3;', { task: 'use' })]));
        const ir2 = await compiledWithImage(p2, 'faults/outage2');
        const handle2 = await startRun(engine, ir2, p2);
        await podRunning(handle2.runId, 'wait');
        proxy.down();
        const failed = await handle2.done;
        expect(failed.status).toBe('failed');
        expect(failed.tasks.find((t) => t.name === 'wait')?.error).toMatch(/artifact store s3:\/\/cellgraph-e2e\/outage/);
        // The outcome is recorded even though the store is gone; only the executed notebook is missing.
        expect(failed.executedNotebook).toBeUndefined();
        expect((await state.getRun(handle2.runId)).error).toMatch(/executed notebook could not be written/);
      } finally {
        proxy.up();
        executor.stop();
        await state.close();
      }
    } finally {
      await proxy.close();
    }
  });

  it('an image that cannot be pulled fails the attempt after the stuck limit, with the reason', async () => {
    const p = project('badimage', notebookText([code('const x = 1;', { task: 'only' })]));
    const ir = await compiledWithImage(p, 'faults/badimage');
    const broken = { ...ir, image: { reference: `${cluster.registry.host}/faults/missing:nope@sha256:${'0'.repeat(64)}`, digest: `sha256:${'0'.repeat(64)}` } };
    const { engine, executor, state } = await kubeEngine(cluster.storeConfig('badimage'), path.join(work, 'badimage.db'));
    try {
      const summary = await (await startRun(engine, broken, p)).done;
      expect(summary.status).toBe('failed');
      expect(summary.tasks[0].error).toMatch(/ErrImagePull|ImagePullBackOff/);
    } finally {
      executor.stop();
      await state.close();
    }
  });
});

describe('foreach on Kubernetes', () => {
  it('runs 50 elements as 50 pods (one per element attempt), collects them in order, and caches per element', async () => {
    const p = project(
      'fifty',
      notebookText([
        code('const items = Array.from({ length: 50 }, (_, i) => i);', { task: 'make' }),
        code('const square = item * item;', { task: 'square', foreach: 'items', as: 'item', maxParallel: 16 }),
        code('const total = square.reduce((s, v) => s + v, 0);\nconst ordered = square.every((v, i) => v === i * i);', { task: 'sum' })
      ])
    );
    const env = cluster.cliEnv('fifty', 'e2e/fifty');
    const r = await cli(p.dir, env, 'run', 'fifty.ipynb', '--executor', 'kubernetes', '--json');
    if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stderr}\n${r.stdout}`);
    const summary = RunSummary.parse(JSON.parse(r.stdout));
    expect(summary.status).toBe('succeeded');
    expect(summary.tasks.find((t) => t.name === 'square')).toMatchObject({ status: 'succeeded', elements: { total: 50, succeeded: 50, failed: 0 } });
    const elementPods = cluster.agent.history.filter((h) => h.name.startsWith(`cg-${summary.runId}-square-e`));
    expect(new Set(elementPods.map((h) => h.name)).size).toBe(50);
    const outputs = await cli(p.dir, env, 'outputs', summary.runId, 'sum', '--json');
    const values = Object.fromEntries((JSON.parse(outputs.stdout) as { outputs: { name: string; value: unknown }[] }).outputs.map((o) => [o.name, o.value]));
    expect(values).toEqual({ total: 40425, ordered: true });
    // Nothing changed: no element pod starts again.
    const again = await cli(p.dir, env, 'run', 'fifty.ipynb', '--executor', 'kubernetes', '--json');
    const cached = RunSummary.parse(JSON.parse(again.stdout));
    expect(cached.tasks.find((t) => t.name === 'square')).toMatchObject({ status: 'cached', elements: { total: 50, cached: 50 } });
    expect(cluster.agent.history.filter((h) => h.name.startsWith(`cg-${cached.runId}-square-e`))).toEqual([]);
  });
});

describe('foreach elements on Kubernetes, through the server API', () => {
  afterEach(() => stopAllServers());

  it("lists the elements with their states and counts, and serves each element's log (live, then archived by its pod) and none of the others'", async () => {
    const p = project(
      'elements',
      notebookText([
        code('const ids = [0, 1, 2, 3, 4, 5];', { task: 'make' }),
        code(
          'console.log(`work on element ${id}`);\nif (id === 3) throw new Error("element three is bad");\nif (id === 5) await new Promise((r) => setTimeout(r, 6000));\nconst doubled = id * 2;',
          { task: 'work', foreach: 'ids', as: 'id', minSuccessRatio: 0.5 }
        )
      ])
    );
    const token = 'e'.repeat(32);
    const env = cluster.cliEnv('elements', 'e2e/elements') as Record<string, string>;
    const s = await startServerProcess(p.dir, { token, env, args: ['--executor', 'kubernetes', '--home', path.join(p.dir, '.cellgraph')] });
    const get = async <T>(pathname: string, schema: { parse(v: unknown): T }): Promise<T> => {
      const res = await s.api(pathname);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET ${pathname} answered ${res.status}: ${text}\nserver log:\n${s.stderr()}`);
      return schema.parse(JSON.parse(text));
    };
    const promoted = await s.api('/api/v1/workflows/promote', { method: 'POST', json: { notebookPath: p.file } });
    expect(promoted.status).toBeLessThan(300);
    const started = await s.api('/api/v1/runs', { method: 'POST', json: { notebookPath: p.file } });
    expect(started.status).toBe(201);
    const { runId: id } = (await started.json()) as { runId: string };
    // Element 5 sleeps in its pod: its live log comes from the pod while it runs.
    const live = await waitFor(
      async () => {
        const res = await s.api(`/api/v1/runs/${id}/logs?task=work&element=5`);
        if (res.status === 404) return undefined; // the task has not filed its element records yet
        const logs = RunLogsResponse.parse(await res.json());
        const attempt = logs.tasks[0]?.attempts[0];
        return logs.tasks[0]?.status === 'running' && attempt?.text.includes('work on element 5') ? attempt : undefined;
      },
      120_000,
      `the live log of element 5 of ${id}`
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nserver log:\n${s.stderr()}`);
    });
    // Marked live while the pod runs (its archive is already in the store: that alone is not the attempt's end).
    expect(live.live).toBe(true);
    expect(live.text).not.toMatch(/work on element [0-4]/);
    const detail = await waitFor(async () => {
      const r = await get(`/api/v1/runs/${id}`, RunDetail);
      return r.status === 'running' || r.status === 'queued' ? undefined : r;
    }, 180_000, `run ${id}`);
    expect(detail.status).toBe('succeeded');
    // One pod per element attempt.
    expect(new Set(cluster.agent.history.filter((h) => h.name.startsWith(`cg-${id}-work-e`)).map((h) => h.name)).size).toBe(6);

    const page = await get(`/api/v1/runs/${id}/tasks/work/elements`, TaskElementsResponse);
    expect(page).toMatchObject({ task: 'work', status: 'succeeded', matching: 6 });
    expect(page.counts).toMatchObject({ total: 6, succeeded: 5, failed: 1, running: 0, pending: 0 });
    expect(page.elements.map((e) => [e.index, e.state, e.attempts, e.cached])).toEqual([
      [0, 'succeeded', 1, false],
      [1, 'succeeded', 1, false],
      [2, 'succeeded', 1, false],
      [3, 'failed', 1, false],
      [4, 'succeeded', 1, false],
      [5, 'succeeded', 1, false]
    ]);
    expect(page.elements[3].error).toContain('element three is bad');
    expect(page.elements[5].durationMs).toBeGreaterThanOrEqual(6000);
    const failed = await get(`/api/v1/runs/${id}/tasks/work/elements?state=failed`, TaskElementsResponse);
    expect(failed.elements.map((e) => e.index)).toEqual([3]);

    // Archived per element by each pod's entry: an element's log is its own output only.
    for (const i of [0, 3, 5]) {
      const logs = await get(`/api/v1/runs/${id}/logs?task=work&element=${i}`, RunLogsResponse);
      expect(logs.tasks).toHaveLength(1);
      expect(logs.tasks[0]).toMatchObject({ task: 'work', element: i, status: i === 3 ? 'failed' : 'succeeded' });
      expect(logs.tasks[0].attempts).toHaveLength(1);
      const text = logs.tasks[0].attempts[0].text;
      expect(text).toContain(`work on element ${i}`);
      expect(text.match(/work on element \d/g)).toEqual([`work on element ${i}`]);
      if (i === 3) expect(text).toContain('element three is bad');
    }
  });
});

/** POST a pod as raw JSON with dryRun=All and fieldValidation=Strict; the API server's answer. */
function dryRunCreate(manifest: unknown): Promise<{ status: number; body: unknown }> {
  return strictDryRunCreate(cluster.kube, `/api/v1/namespaces/${cluster.namespace}/pods`, manifest);
}
