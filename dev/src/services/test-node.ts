/**
 * A test node for the real kube-apiserver (never shipped to users): the parts of
 * kube-scheduler and the kubelet that running cellgraph's pods needs, since the test
 * control plane has neither.
 *
 * - Scheduler: pods of the namespace without `spec.nodeName` whose nodeSelector matches
 *   this node's labels are bound to it through the `pods/binding` subresource.
 * - Kubelet: a bound pod's image is pulled from the registry with skopeo (by digest, once
 *   per image), unpacked with umoci, and its container command runs under chroot in the
 *   rootfs with the pod's env (Secret references resolved through the API) and working
 *   directory; status goes back through `pods/status` as the kubelet reports it (Running,
 *   then Succeeded or Failed with the container's termination reason and exit code).
 * - What the kubelet enforces is enforced here too: `activeDeadlineSeconds`
 *   (DeadlineExceeded), memory limits (OOMKilled; see `watchMemory`), deletion (stop the
 *   container, then remove the pod with grace period 0), and eviction on request.
 *
 * Limits, stated plainly: pods of one image share one unpacked rootfs (a container
 * runtime gives each a copy-on-write layer; cellgraph's tasks write only to their temp
 * dir, which is per pod here); the network is the host's; `kubectl logs` cannot reach
 * this node (cellgraph's runner archives its own log in the artifact store).
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { toKubeError } from '@cellgraph/server/dist/executors/kubernetes/kube-errors';
import { PodInformer } from '@cellgraph/server/dist/executors/kubernetes/pod-informer';

const run = promisify(execFile);

export interface TestNodeOptions {
  kubeconfigPath: string;
  /** The namespace whose pods this node schedules and runs. */
  namespace: string;
  nodeName?: string;
  labels?: Record<string, string>;
  /** Containers running at once; more bound pods wait Pending (default 2 × CPUs). */
  maxParallel?: number;
}

/** One pod this node ran, with epoch-ms timings. */
export interface PodRecord {
  namespace: string;
  name: string;
  phase: string;
  reason?: string;
  boundAt?: number;
  startedAt?: number;
  finishedAt?: number;
}

export interface TestNode {
  readonly nodeName: string;
  /** Pods this node ran (in start order), for tests and benchmarks. */
  readonly history: ReadonlyArray<PodRecord>;
  /** Stops the pod's container and reports it Failed with reason Evicted, as the kubelet does under node pressure. */
  evict(namespace: string, name: string): Promise<void>;
  /** Kills every container it started (by process group), stops watching, removes its files. The Node object stays. */
  stop(): Promise<void>;
}

/** A running container and why it is being stopped, if it is. */
interface Container {
  child: ChildProcess;
  startedAt: string;
  stopReason?: 'deadline' | 'evicted' | 'oom' | 'deleted';
  timers: NodeJS.Timeout[];
}

const RETRY_MS = [100, 250, 500, 1000, 2000, 4000];

/** Starts the node: registers it, then schedules and runs pods until stopped. */
export async function startTestNode(options: TestNodeOptions): Promise<TestNode> {
  const node = new Node(options);
  await node.start();
  return node;
}

class Node implements TestNode {
  readonly nodeName: string;
  readonly history: PodRecord[] = [];
  private readonly kc = new k8s.KubeConfig();
  private readonly core: k8s.CoreV1Api;
  private readonly informer: PodInformer;
  private readonly labels: Record<string, string>;
  private readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-node-'));
  private readonly images = new Map<string, Promise<{ rootfs: string; args: string[]; entrypoint: string[]; env: string[]; cwd: string }>>();
  private readonly containers = new Map<string, Container>();
  /** Pods handled already (bound, started, deleted): each step happens once per pod. */
  private readonly binding = new Set<string>();
  private readonly starting = new Set<string>();
  private readonly deleting = new Set<string>();
  private readonly queue: k8s.V1Pod[] = [];
  private readonly maxParallel: number;
  /** Pods between leaving the queue and their end (pulling, running, reporting). */
  private active = 0;
  private stopped = false;

  constructor(private readonly options: TestNodeOptions) {
    this.kc.loadFromFile(options.kubeconfigPath);
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.nodeName = options.nodeName ?? 'cellgraph-test-node';
    this.labels = { 'kubernetes.io/hostname': this.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...options.labels };
    this.informer = new PodInformer(this.kc, options.namespace, '');
    this.maxParallel = options.maxParallel ?? 2 * os.cpus().length;
  }

  async start(): Promise<void> {
    await this.register();
    this.informer.subscribeAll((name, pod) => void this.onPod(name, pod).catch((err: Error) => this.log(`${name}: ${err.message}`)));
    await this.informer.start();
    for (const pod of this.informer.all()) void this.onPod(pod.metadata?.name ?? '', pod);
  }

  private log(message: string): void {
    if (process.env.CELLGRAPH_TEST_NODE_DEBUG) process.stderr.write(`test-node: ${message}\n`);
  }

  private async register(): Promise<void> {
    const capacity = { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110' };
    try {
      await this.core.createNode({ body: { metadata: { name: this.nodeName, labels: this.labels } } });
    } catch (err) {
      if (toKubeError(err).status !== 409) throw toKubeError(err);
    }
    const body = await this.core.readNode({ name: this.nodeName });
    const now = new Date();
    body.status = {
      capacity,
      allocatable: capacity,
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: this.nodeName }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'cellgraph test node is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'cellgraph-test-node', kubeProxyVersion: '', containerRuntimeVersion: 'chroot://', bootID: '', kernelVersion: os.release(), machineID: '', osImage: 'Debian', systemUUID: '' }
    };
    await this.core.replaceNodeStatus({ name: this.nodeName, body });
  }

  private async onPod(name: string, pod: k8s.V1Pod | undefined): Promise<void> {
    if (this.stopped) return;
    if (pod === undefined) {
      // Removed from the API: nothing of it may keep running.
      this.kill(name, 'deleted');
      return;
    }
    const spec = pod.spec;
    if (spec === undefined) return;
    if (!spec.nodeName) return this.schedule(pod);
    if (spec.nodeName !== this.nodeName) return;
    if (pod.metadata?.deletionTimestamp) return this.delete(pod);
    const phase = pod.status?.phase;
    if ((phase === undefined || phase === 'Pending') && !this.starting.has(name)) {
      this.starting.add(name);
      this.queue.push(pod);
      this.pump();
    }
  }

  private async schedule(pod: k8s.V1Pod): Promise<void> {
    const name = pod.metadata?.name as string;
    const selector = pod.spec?.nodeSelector ?? {};
    if (!Object.entries(selector).every(([k, v]) => this.labels[k] === v)) return;
    if (this.binding.has(name)) return;
    this.binding.add(name);
    const binding: k8s.V1Binding = { metadata: { name, namespace: this.options.namespace }, target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName } };
    // Recorded first: the bound pod's watch event may start it before the binding call returns.
    this.history.push({ namespace: this.options.namespace, name, phase: 'Pending', boundAt: Date.now() });
    await this.retry(() => this.core.createNamespacedPodBinding({ name, namespace: this.options.namespace, body: binding }));
  }

  private record(name: string): PodRecord {
    let r = [...this.history].reverse().find((h) => h.name === name);
    if (r === undefined) this.history.push((r = { namespace: this.options.namespace, name, phase: 'Pending' }));
    return r;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.active < this.maxParallel && !this.stopped) {
      const pod = this.queue.shift() as k8s.V1Pod;
      this.active += 1;
      void this.startContainer(pod)
        .catch((err: Error) => this.log(`${pod.metadata?.name}: ${err.message}`))
        .finally(() => {
          this.active -= 1;
          this.pump();
        });
    }
  }

  private async startContainer(pod: k8s.V1Pod): Promise<void> {
    const name = pod.metadata?.name as string;
    const spec = pod.spec as k8s.V1PodSpec;
    const c = spec.containers[0];
    let image: { rootfs: string; args: string[]; entrypoint: string[]; env: string[]; cwd: string };
    for (let attempt = 0; ; attempt++) {
      try {
        image = await this.pull(c.image as string);
        break;
      } catch (err) {
        this.images.delete(c.image as string);
        const reason = attempt === 0 ? 'ErrImagePull' : 'ImagePullBackOff';
        const message = attempt === 0 ? (err as Error).message.split('\n').slice(-3).join(' ').slice(0, 500) : `Back-off pulling image "${c.image}"`;
        if (!(await this.setStatus(name, () => ({ phase: 'Pending', containerStatuses: [waitingStatus(c, reason, message)] })))) return this.finished(name);
        await sleep(Math.min(10_000, 1000 * 2 ** attempt));
        if (this.stopped || this.informer.get(name) === undefined || this.informer.get(name)?.metadata?.deletionTimestamp) return this.finished(name);
      }
    }
    let env: string[];
    try {
      env = [...image.env, ...(await this.containerEnv(pod, c)), ...(await this.mountVolumes(pod, c, image.rootfs))];
    } catch (err) {
      await this.setStatus(name, () => ({ phase: 'Pending', containerStatuses: [waitingStatus(c, 'CreateContainerConfigError', (err as Error).message)] }));
      return this.finished(name);
    }
    const args = c.command ? [...c.command, ...(c.args ?? [])] : c.args ? [...image.entrypoint, ...c.args] : image.args;
    const cwd = c.workingDir ?? image.cwd;
    const tmp = path.join(image.rootfs, 'tmp', 'pods', pod.metadata?.uid ?? name);
    fs.mkdirSync(tmp, { recursive: true });
    const logFd = fs.openSync(path.join(this.root, `${name}.log`), 'a');
    const child = spawn('chroot', [image.rootfs, '/bin/sh', '-c', 'cd "$0" && exec "$@"', cwd, ...args], {
      env: Object.fromEntries([...env, `TMPDIR=/tmp/pods/${pod.metadata?.uid ?? name}`, `HOSTNAME=${name}`].map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
      stdio: ['ignore', logFd, logFd],
      detached: true
    });
    fs.closeSync(logFd);
    const startedAt = new Date().toISOString();
    const container: Container = { child, startedAt, timers: [] };
    this.containers.set(name, container);
    const rec = this.record(name);
    rec.startedAt = Date.now();
    rec.phase = 'Running';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    if (spec.activeDeadlineSeconds !== undefined) {
      container.timers.push(setTimeout(() => this.kill(name, 'deadline'), spec.activeDeadlineSeconds * 1000));
    }
    const limit = parseQuantity(c.resources?.limits?.memory);
    if (limit !== undefined) container.timers.push(this.watchMemory(name, child.pid as number, limit));
    await this.setStatus(name, () => ({
      phase: 'Running',
      startTime: new Date(startedAt),
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: c.name, image: c.image as string, imageID: c.image as string, ready: true, started: true, restartCount: 0, state: { running: { startedAt: new Date(startedAt) } } }]
    }));
    const { code, signal } = await exited;
    container.timers.forEach(clearTimeout);
    this.containers.delete(name);
    fs.rmSync(tmp, { recursive: true, force: true });
    const finishedAt = new Date();
    const exitCode = code ?? 128 + (signal ? os.constants.signals[signal] : 9);
    const tail = fs.readFileSync(path.join(this.root, `${name}.log`), 'utf8').trimEnd().split('\n').slice(-5).join('\n');
    const terminated = (reason: string): k8s.V1ContainerStateTerminated => ({ exitCode, reason, startedAt: new Date(startedAt), finishedAt, message: tail.slice(-2000) });
    let status: k8s.V1PodStatus;
    switch (container.stopReason) {
      case 'deleted':
        rec.phase = 'Deleted';
        await this.removePod(name);
        return this.finished(name);
      case 'deadline':
        status = { phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline', containerStatuses: [terminatedStatus(c, terminated('Error'))] };
        break;
      case 'evicted':
        // The kubelet's eviction manager: pod Failed, reason Evicted, and the DisruptionTarget condition.
        status = {
          phase: 'Failed',
          reason: 'Evicted',
          message: 'The node was low on resource: memory. ',
          conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'The node was low on resource: memory. ' }],
          containerStatuses: [terminatedStatus(c, terminated('Error'))]
        };
        break;
      case 'oom':
        status = { phase: 'Failed', containerStatuses: [terminatedStatus(c, { ...terminated('OOMKilled'), exitCode: 137 })] };
        break;
      default:
        status = { phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [terminatedStatus(c, terminated(exitCode === 0 ? 'Completed' : 'Error'))] };
    }
    rec.phase = status.phase as string;
    rec.reason = status.reason ?? status.containerStatuses?.[0].state?.terminated?.reason;
    rec.finishedAt = Date.now();
    await this.setStatus(name, (current) => ({ ...current, ...status, conditions: status.conditions ?? [{ type: 'Ready', status: 'False' }] }));
    this.finished(name);
    // A deletion requested while the container ran completes now.
    const latest = this.informer.get(name);
    if (latest?.metadata?.deletionTimestamp) await this.removePod(name);
  }

  private finished(name: string): void {
    this.starting.delete(name);
  }

  /**
   * Memory limit, enforced by polling the container's process group RSS every 100 ms and
   * killing it above the limit. A real kubelet leaves this to the kernel's cgroup OOM
   * killer, which is exact; polling can let a fast allocation overshoot briefly.
   */
  private watchMemory(name: string, pgid: number, limitBytes: number): NodeJS.Timeout {
    const page = 4096;
    return setInterval(() => {
      let rss = 0;
      for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          if (Number(fields[2]) !== pgid) continue;
          rss += Number(fs.readFileSync(`/proc/${entry}/statm`, 'utf8').split(' ')[1]) * page;
        } catch {
          // The process ended between listing and reading.
        }
      }
      if (rss > limitBytes) this.kill(name, 'oom');
    }, 100);
  }

  /** Stops a container: SIGTERM to its group, SIGKILL after the grace period (at most 5 s; at once for OOM). */
  private kill(name: string, reason: NonNullable<Container['stopReason']>, graceSeconds = 2): void {
    const container = this.containers.get(name);
    if (container === undefined || container.stopReason !== undefined) return;
    container.stopReason = reason;
    const pid = container.child.pid as number;
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-pid, s);
      } catch {
        // Already gone.
      }
    };
    if (reason === 'oom') return signal('SIGKILL');
    signal('SIGTERM');
    setTimeout(() => signal('SIGKILL'), Math.min(graceSeconds, 5) * 1000).unref();
  }

  private async delete(pod: k8s.V1Pod): Promise<void> {
    const name = pod.metadata?.name as string;
    if (this.deleting.has(name)) return;
    this.deleting.add(name);
    if (this.containers.has(name)) {
      this.kill(name, 'deleted', pod.metadata?.deletionGracePeriodSeconds ?? 2);
      return; // startContainer removes the pod once the container stopped.
    }
    // Waiting for an image or already finished: nothing runs; remove it now.
    this.queue.splice(0, this.queue.length, ...this.queue.filter((p) => p.metadata?.name !== name));
    await this.removePod(name);
  }

  private async removePod(name: string): Promise<void> {
    await this.retry(() => this.core.deleteNamespacedPod({ name, namespace: this.options.namespace, gracePeriodSeconds: 0 })).catch((err: Error) => {
      if (toKubeError(err).status !== 404) throw err;
    });
  }

  async evict(namespace: string, name: string): Promise<void> {
    if (namespace !== this.options.namespace || !this.containers.has(name)) throw new Error(`no running container for pod ${namespace}/${name} on ${this.nodeName}`);
    this.kill(name, 'evicted');
  }

  /** Pulls an image once per reference (by digest) and unpacks it; later pods reuse the rootfs. */
  private pull(reference: string): Promise<{ rootfs: string; args: string[]; entrypoint: string[]; env: string[]; cwd: string }> {
    let pulled = this.images.get(reference);
    if (pulled === undefined) {
      pulled = (async () => {
        const dir = path.join(this.root, 'images', String(this.images.size));
        const layout = path.join(dir, 'layout');
        const bundle = path.join(dir, 'bundle');
        fs.mkdirSync(dir, { recursive: true });
        // `repo:tag@digest` pulls by digest (the tag is only informative), as container runtimes do; skopeo refuses both at once.
        const pinned = reference.replace(/:[^/@]+@/, '@');
        await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${pinned}`, `oci:${layout}:img`], { maxBuffer: 16 * 1024 * 1024 });
        await run('umoci', ['unpack', '--image', `${layout}:img`, bundle], { maxBuffer: 16 * 1024 * 1024 });
        const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; env: string[]; cwd: string } };
        // umoci joins Entrypoint and Cmd; a container's `args` replace only Cmd, so keep Entrypoint apart.
        const blob = (digest: string) => JSON.parse(fs.readFileSync(path.join(layout, 'blobs', ...digest.split(':')), 'utf8')) as Record<string, unknown>;
        const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
        const manifest = blob(index.manifests[0].digest) as { config: { digest: string } };
        const entrypoint = (blob(manifest.config.digest) as { config?: { Entrypoint?: string[] | null } }).config?.Entrypoint ?? [];
        return { rootfs: path.join(bundle, 'rootfs'), args: config.process.args, entrypoint, env: config.process.env, cwd: config.process.cwd };
      })();
      this.images.set(reference, pulled);
    }
    return pulled;
  }

  private async configMap(name: string): Promise<k8s.V1ConfigMap> {
    try {
      return await this.core.readNamespacedConfigMap({ name, namespace: this.options.namespace });
    } catch (err) {
      throw new Error(`configmap "${name}" not found (${toKubeError(err).message})`);
    }
  }

  /**
   * The pod's volumes, written into the (shared) rootfs at their mount paths: ConfigMap
   * items as files, emptyDirs as directories. A pod with a service account (and token
   * automounting not turned off) gets a bound token from the TokenRequest API, the CA and
   * the namespace at the standard path, and the env in-cluster clients look for: the
   * kubelet's service-account volume. Returns that env.
   */
  private async mountVolumes(pod: k8s.V1Pod, c: k8s.V1Container, rootfs: string): Promise<string[]> {
    const spec = pod.spec as k8s.V1PodSpec;
    const inRootfs = (mountPath: string) => path.join(rootfs, path.normalize(`/${mountPath}`));
    for (const m of c.volumeMounts ?? []) {
      const volume = spec.volumes?.find((v) => v.name === m.name);
      if (volume === undefined) throw new Error(`volume "${m.name}" is not defined`);
      const dir = inRootfs(m.mountPath);
      fs.mkdirSync(dir, { recursive: true });
      if (volume.configMap) {
        const data = (await this.configMap(volume.configMap.name as string)).data ?? {};
        const items = volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
        for (const item of items) fs.writeFileSync(path.join(dir, item.path), data[item.key] ?? '');
      } else if (!volume.emptyDir) {
        throw new Error(`test node: volume "${m.name}" is neither a configMap nor an emptyDir`);
      }
    }
    if (!spec.serviceAccountName || spec.automountServiceAccountToken === false) return [];
    const token = await this.core.createNamespacedServiceAccountToken({
      name: spec.serviceAccountName,
      namespace: this.options.namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name, uid: pod.metadata?.uid } } }
    });
    const saDir = inRootfs('/var/run/secrets/kubernetes.io/serviceaccount');
    fs.mkdirSync(saDir, { recursive: true });
    fs.writeFileSync(path.join(saDir, 'token'), token.status?.token ?? '');
    fs.writeFileSync(path.join(saDir, 'namespace'), this.options.namespace);
    const cluster = this.kc.getCurrentCluster();
    const server = new URL(cluster?.server ?? '');
    fs.writeFileSync(path.join(saDir, 'ca.crt'), cluster?.caData ? Buffer.from(cluster.caData, 'base64') : fs.readFileSync(cluster?.caFile ?? ''));
    return [`KUBERNETES_SERVICE_HOST=${server.hostname}`, `KUBERNETES_SERVICE_PORT=${server.port}`];
  }

  /**
   * The container's env as `NAME=value`: Secret and ConfigMap references read through the API
   * and `metadata.name` / `metadata.namespace` field references, as the kubelet resolves them.
   */
  private async containerEnv(pod: k8s.V1Pod, c: k8s.V1Container): Promise<string[]> {
    const out: string[] = [];
    for (const e of c.env ?? []) {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      if (field !== undefined) {
        const value = field === 'metadata.name' ? pod.metadata?.name : field === 'metadata.namespace' ? this.options.namespace : undefined;
        if (value === undefined) throw new Error(`test node: fieldRef ${field} is not supported`);
        out.push(`${e.name}=${value}`);
        continue;
      }
      const cmRef = e.valueFrom?.configMapKeyRef;
      if (cmRef !== undefined) {
        const value = (await this.configMap(cmRef.name as string)).data?.[cmRef.key];
        if (value === undefined) throw new Error(`couldn't find key ${cmRef.key} in ConfigMap ${this.options.namespace}/${cmRef.name}`);
        out.push(`${e.name}=${value}`);
        continue;
      }
      const ref = e.valueFrom?.secretKeyRef;
      if (ref === undefined) {
        out.push(`${e.name}=${e.value ?? ''}`);
        continue;
      }
      let secret: k8s.V1Secret;
      try {
        secret = await this.core.readNamespacedSecret({ name: ref.name as string, namespace: this.options.namespace });
      } catch (err) {
        throw new Error(`secret "${ref.name}" not found (${toKubeError(err).message})`);
      }
      const value = secret.data?.[ref.key];
      if (value === undefined) throw new Error(`couldn't find key ${ref.key} in Secret ${this.options.namespace}/${ref.name}`);
      out.push(`${e.name}=${Buffer.from(value, 'base64').toString('utf8')}`);
    }
    return out;
  }

  /**
   * Writes the pod's status through the status subresource, reading the pod fresh and
   * retrying conflicts and outages (the API server may be restarting). False when the pod is gone.
   */
  private async setStatus(name: string, status: (current: k8s.V1PodStatus) => k8s.V1PodStatus): Promise<boolean> {
    for (let i = 0; !this.stopped; i++) {
      try {
        const body = await this.core.readNamespacedPodStatus({ name, namespace: this.options.namespace });
        body.status = status(body.status ?? {});
        await this.core.replaceNamespacedPodStatus({ name, namespace: this.options.namespace, body });
        return true;
      } catch (err) {
        const e = toKubeError(err);
        if (e.status === 404) return false;
        if (e.status !== 409 && !e.transient) throw e;
        await sleep(RETRY_MS[Math.min(i, RETRY_MS.length - 1)]);
      }
    }
    return false;
  }

  private async retry<T>(call: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await call();
      } catch (err) {
        const e = toKubeError(err);
        if (!e.transient || i >= 20 || this.stopped) throw e;
        await sleep(RETRY_MS[Math.min(i, RETRY_MS.length - 1)]);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.informer.stop();
    const exits = [...this.containers.values()].map((c) => new Promise<void>((r) => (c.child.exitCode !== null || c.child.signalCode !== null ? r() : c.child.once('exit', () => r()))));
    for (const c of this.containers.values()) {
      c.timers.forEach(clearTimeout);
      try {
        process.kill(-(c.child.pid as number), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await Promise.all(exits);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

function waitingStatus(c: k8s.V1Container, reason: string, message: string): k8s.V1ContainerStatus {
  return { name: c.name, image: c.image as string, imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } };
}

function terminatedStatus(c: k8s.V1Container, terminated: k8s.V1ContainerStateTerminated): k8s.V1ContainerStatus {
  return { name: c.name, image: c.image as string, imageID: c.image as string, ready: false, started: false, restartCount: 0, state: { terminated } };
}

/** Bytes of a Kubernetes memory quantity (`64Mi`, `1G`, `512000`); undefined when unset. */
export function parseQuantity(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const units: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.floor(Number(m[1]) * (m[2] ? units[m[2]] : 1));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
