/**
 * The real Kubernetes API server the Kubernetes executor's tests run against: etcd +
 * kube-apiserver built by scripts/build-kube.sh. Fails (never skips) when they are missing.
 * Exercises what the executor and the test node agent need: namespaces, pods, label
 * selectors, watches, binding, node registration, the pod status subresource, deletion.
 */
import * as k8s from '@kubernetes/client-node';
import * as fs from 'node:fs';
import { toKubeError } from '@cellgraph/server/dist/executors/kubernetes/kube-errors';
import { KubeApiServer, kubeVersion, startKubeApiServer } from '../kube-apiserver';

jest.setTimeout(180_000);

let kube: KubeApiServer;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
/** The 1.x client sends JSON Patch unless told otherwise; a status update is a strategic merge. */
const STRATEGIC_MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

beforeAll(async () => {
  kube = await startKubeApiServer();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  core = kc.makeApiClient(k8s.CoreV1Api);
});

afterAll(async () => {
  await kube?.stop();
});

/** Collects watch events until `until` matches one, or fails after `timeoutMs`. */
async function watchUntil(
  path: string,
  query: Record<string, string>,
  until: (type: string, pod: k8s.V1Pod) => boolean,
  timeoutMs = 20_000
): Promise<{ events: Array<{ type: string; pod: k8s.V1Pod }>; start: () => Promise<void> }> {
  const events: Array<{ type: string; pod: k8s.V1Pod }> = [];
  let started: Promise<{ abort(): void }> | undefined;
  const result = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch ${path}: no matching event in ${timeoutMs} ms; saw ${JSON.stringify(events.map((e) => [e.type, e.pod.status?.phase]))}`)), timeoutMs);
    started = new k8s.Watch(kc).watch(
      path,
      query,
      (type, obj: k8s.V1Pod) => {
        events.push({ type, pod: obj });
        if (until(type, obj)) {
          clearTimeout(timer);
          resolve();
        }
      },
      (err) => {
        if (err) {
          clearTimeout(timer);
          reject(err);
        }
      }
    );
    started.catch(reject);
  });
  return {
    events,
    start: async () => {
      try {
        await result;
      } finally {
        (await started)?.abort();
      }
    }
  };
}

test('the API server is the pinned Kubernetes release, reachable through the kubeconfig', async () => {
  expect(kube.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(kube.version).toBe(kubeVersion());
  expect(fs.readFileSync(kube.kubeconfigPath, 'utf8')).toContain(kube.server);
  const version = await kc.makeApiClient(k8s.VersionApi).getCode();
  expect(version.gitVersion).toBe(kubeVersion());
  // RBAC is on: a request without the admin token is refused.
  const anonymous = new k8s.KubeConfig();
  anonymous.loadFromOptions({
    clusters: [{ name: 'c', server: kube.server, caData: Buffer.from(kube.caCert).toString('base64') }],
    users: [{ name: 'anon' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'anon' }],
    currentContext: 'c'
  });
  await expect(anonymous.makeApiClient(k8s.CoreV1Api).listNamespace()).rejects.toMatchObject({ code: 403 });
});

test('namespace, pod, label selector, watch, binding, status subresource, deletion', async () => {
  const ns = 'cg-test';
  await core.createNamespace({ body: { metadata: { name: ns } } });

  // A node agent registers its node.
  await core.createNode({ body: { metadata: { name: 'cg-node-1', labels: { 'kubernetes.io/hostname': 'cg-node-1' } } } });
  await core.patchNodeStatus(
    { name: 'cg-node-1', body: { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'cellgraph test node agent', lastHeartbeatTime: new Date(), lastTransitionTime: new Date() }] } } },
    STRATEGIC_MERGE
  );

  const labels = { 'cellgraph.dev/run': 'run-1', 'cellgraph.dev/task': 'greet', 'cellgraph.dev/attempt': '1' };
  const listed = await core.listNamespacedPod({ namespace: ns, labelSelector: 'cellgraph.dev/run=run-1' });
  expect(listed.items).toEqual([]);
  const resourceVersion = listed.metadata!.resourceVersion!;

  // Watch from the list's resourceVersion (what an informer does), then create the pod.
  const added = await watchUntil(`/api/v1/namespaces/${ns}/pods`, { labelSelector: 'cellgraph.dev/run=run-1', resourceVersion }, (type) => type === 'ADDED');
  const created = await core.createNamespacedPod({ namespace: ns, body: {
    metadata: { name: 'run-1-greet-1', labels },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: 600,
      containers: [{ name: 'task', image: '127.0.0.1:5000/hello@sha256:' + '0'.repeat(64), command: ['node', '/app/task-entry.js'], env: [{ name: 'CELLGRAPH_INVOCATION', value: '{}' }] }]
    }
  } });
  expect(created.status?.phase).toBe('Pending');
  expect(created.spec?.nodeName).toBeUndefined(); // no scheduler runs
  await added.start();
  expect(added.events[0].type).toBe('ADDED');
  expect(added.events[0].pod.metadata?.name).toBe('run-1-greet-1');

  // Another run's pod is not selected.
  await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'run-2-greet-1', labels: { ...labels, 'cellgraph.dev/run': 'run-2' } }, spec: { containers: [{ name: 'task', image: 'busybox' }] } } });
  const selected = await core.listNamespacedPod({ namespace: ns, labelSelector: 'cellgraph.dev/run=run-1,cellgraph.dev/task=greet' });
  expect(selected.items.map((p) => p.metadata?.name)).toEqual(['run-1-greet-1']);

  // Bind the pod to the node (what kube-scheduler does) and report it running, then
  // succeeded, through the status subresource (what the kubelet does).
  const watched = await watchUntil(
    `/api/v1/namespaces/${ns}/pods`,
    { labelSelector: 'cellgraph.dev/run=run-1', resourceVersion: created.metadata!.resourceVersion! },
    (type, pod) => type === 'MODIFIED' && pod.status?.phase === 'Succeeded'
  );
  await core.createNamespacedPodBinding({ name: 'run-1-greet-1', namespace: ns, body: { metadata: { name: 'run-1-greet-1' }, target: { apiVersion: 'v1', kind: 'Node', name: 'cg-node-1' } } });
  const bound = await core.readNamespacedPod({ name: 'run-1-greet-1', namespace: ns });
  expect(bound.spec?.nodeName).toBe('cg-node-1');

  const startedAt = new Date();
  const pod = bound;
  pod.status = {
    ...pod.status,
    phase: 'Running',
    hostIP: '127.0.0.1',
    podIP: '127.0.0.1',
    startTime: startedAt,
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: startedAt }],
    containerStatuses: [{ name: 'task', image: pod.spec!.containers[0].image!, imageID: pod.spec!.containers[0].image!, ready: true, restartCount: 0, started: true, state: { running: { startedAt } } }]
  };
  const running = await core.replaceNamespacedPodStatus({ name: 'run-1-greet-1', namespace: ns, body: pod });
  expect(running.status?.phase).toBe('Running');

  await core.patchNamespacedPodStatus(
    {
      name: 'run-1-greet-1',
      namespace: ns,
      body: {
        status: {
        phase: 'Succeeded',
        conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: new Date() }],
        containerStatuses: [{ name: 'task', image: pod.spec!.containers[0].image!, imageID: pod.spec!.containers[0].image!, ready: false, restartCount: 0, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: new Date() } } }]
        }
      }
    },
    STRATEGIC_MERGE
  );
  await watched.start();
  const phases = watched.events.filter((e) => e.type === 'MODIFIED').map((e) => e.pod.status?.phase);
  expect(phases).toEqual(expect.arrayContaining(['Running', 'Succeeded']));
  const last = watched.events[watched.events.length - 1].pod;
  expect(last.spec?.nodeName).toBe('cg-node-1');
  expect(last.status?.containerStatuses?.[0].state?.terminated?.exitCode).toBe(0);
  expect(last.status?.containerStatuses?.[0].state?.terminated?.reason).toBe('Completed');

  // A pod bound to a node is only gone once deleted with grace period 0 (no kubelet confirms).
  await core.deleteNamespacedPod({ name: 'run-1-greet-1', namespace: ns, gracePeriodSeconds: 0 });
  await expect(core.readNamespacedPod({ name: 'run-1-greet-1', namespace: ns })).rejects.toMatchObject({ code: 404 });
});

test("the client's failures become KubernetesApiErrors with the API server's status, reason and message", async () => {
  // The 1.x client throws ApiException with the Status body as unparsed text: the mapping
  // must still find the reason the executor branches on (409 AlreadyExists: follow the pod).
  await core.createNamespace({ body: { metadata: { name: 'cg-errors' } } });
  const conflict = await core.createNamespace({ body: { metadata: { name: 'cg-errors' } } }).catch(toKubeError);
  expect(conflict).toMatchObject({ name: 'KubernetesApiError', status: 409, reason: 'AlreadyExists', message: 'namespaces "cg-errors" already exists', transient: false });
  const missing = await core.readNamespacedPod({ name: 'nope', namespace: 'cg-errors' }).catch(toKubeError);
  expect(missing).toMatchObject({ status: 404, reason: 'NotFound', message: 'pods "nope" not found' });
  // No answer at all (nothing listens there): no status, worth retrying.
  const offline = new k8s.KubeConfig();
  offline.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:9' }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  const unreachable = await offline.makeApiClient(k8s.CoreV1Api).listNamespace().catch(toKubeError);
  expect(unreachable).toMatchObject({ status: undefined, transient: true, message: expect.stringMatching(/ECONNREFUSED/) });
});

test('state survives an API server restart and watches resume from a resourceVersion', async () => {
  const ns = 'cg-restart';
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const before = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p1', labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
  await kube.restartApiServer();
  const after = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=x' });
  expect(after.items.map((p) => p.metadata?.uid)).toEqual([before.metadata?.uid]);
  const resumed = await watchUntil(`/api/v1/namespaces/${ns}/pods`, { labelSelector: 'app=x', resourceVersion: before.metadata!.resourceVersion! }, (type, p) => type === 'ADDED' && p.metadata?.name === 'p2');
  await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p2', labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
  await resumed.start();
  expect(resumed.events.map((e) => `${e.type} ${e.pod.metadata?.name}`)).toEqual(['ADDED p2']);
});
