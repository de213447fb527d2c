/**
 * The server deployed as users deploy it: its own image built by `deploy image` and pushed
 * to the test registry, the rendered objects created on the real kube-apiserver, and the
 * Deployment's pod template run as a pod on the test node. The server finds its cluster by
 * in-cluster config (the service-account token the node mounts), is held to the rendered
 * Role, reads PostgreSQL, S3 and its token from the rendered Secret references.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { TestCluster, startTestCluster } from '@cellgraph/dev/services/test-cluster';
import { testDatabaseUrl } from '@cellgraph/dev/services/postgres';
import { freePort } from '@cellgraph/dev/services/registry';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { FilesystemStore } from '../../stores';
import { buildServerImage, manifestList, parseDeployOptions, renderManifests } from '..';

jest.setTimeout(300_000);

let cluster: TestCluster;
let cacheDir: string;
const token = 'deploy-e2e-token-0123456789abcdef';

beforeAll(async () => {
  cluster = await startTestCluster({ namespace: 'cellgraph' });
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-deploy-'));
}, 240_000);

afterAll(async () => {
  for (const name of ['cellgraph-0', 'cellgraph-1']) await cluster?.core.deleteNamespacedPod({ name, namespace: 'cellgraph', gracePeriodSeconds: 0 }).catch(() => undefined);
  await cluster?.stop();
  if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true });
});

async function health(url: string): Promise<{ status: number; body: { status?: string; executor?: string } }> {
  const res = await fetch(`${url}/api/v1/health`);
  return { status: res.status, body: (await res.json()) as { status?: string; executor?: string } };
}

describe('the server as pods on the test node', () => {
  it('runs its replicas from its own image with in-cluster config, RBAC and Secret references as rendered, and runs a notebook as pods', async () => {
    const image = await buildServerImage({ push: `${cluster.registry.host}/cellgraph/server`, base: cluster.baseImage, store: new FilesystemStore(cacheDir) });
    expect(image.layers.map((l) => l.name)).toEqual(['dependencies', 'server']);

    const ns = cluster.namespace;
    const secret = (name: string, data: Record<string, string>) => cluster.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name }, stringData: data } });
    await secret('cg-db', { url: await testDatabaseUrl('deploy_pod') });
    await secret('cg-api', { token });
    await secret('cg-s3', { AWS_ACCESS_KEY_ID: cluster.s3.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: cluster.s3.env.AWS_SECRET_ACCESS_KEY });

    const m = renderManifests(
      parseDeployOptions({
        namespace: ns,
        image: image.reference,
        store: `s3://${cluster.bucket}/deploy`,
        s3Endpoint: cluster.s3.endpoint,
        databaseSecret: 'cg-db',
        tokenSecret: 'cg-api',
        s3Secret: 'cg-s3',
        workflowRepo: `${cluster.registry.host}/cellgraph/workflows`,
        workflowBase: cluster.baseImage
      })
    );
    const objects = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
    for (const o of manifestList(m)) await objects.create(o);

    // No controller-manager: create the pods the ReplicaSet would, from the Deployment's
    // template, as many as it asks for. The test node shares the host's network, so each
    // replica listens on loopback, on a port of its own.
    const template = m.deployment.spec!.template;
    const container = template.spec!.containers[0];
    const startReplica = async (name: string): Promise<string> => {
      const port = await freePort();
      const env = container.env!.map((e) => (e.name === 'CELLGRAPH_HOST' ? { name: e.name, value: '127.0.0.1' } : e.name === 'CELLGRAPH_PORT' ? { name: e.name, value: String(port) } : e));
      await cluster.core.createNamespacedPod({ namespace: ns, body: { metadata: { name, labels: template.metadata!.labels }, spec: { ...template.spec!, containers: [{ ...container, env }] } } });
      const replicaUrl = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 120_000;
      for (;;) {
        const last = await health(replicaUrl).catch((e: Error) => e.message);
        if (typeof last === 'object' && last.status === 200) {
          // The Kubernetes executor listed pods at boot with the pod's own service account.
          expect(last.body).toMatchObject({ status: 'ok', executor: 'kubernetes' });
          return replicaUrl;
        }
        const pod = await cluster.core.readNamespacedPod({ name, namespace: ns });
        const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded' || waiting === 'ErrImagePull' || waiting === 'CreateContainerConfigError' || Date.now() > deadline) {
          throw new Error(`server pod ${name} never became healthy: ${pod.status?.phase} ${JSON.stringify(pod.status?.containerStatuses?.[0]?.state)} (last health: ${JSON.stringify(last)})`);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    const replicas = m.deployment.spec!.replicas!;
    expect(replicas).toBe(2);
    const [url, otherUrl] = await Promise.all(Array.from({ length: replicas }, (_, i) => startReplica(`cellgraph-${i}`)));
    // The token came from the Secret reference; PostgreSQL answers the runs list.
    expect((await fetch(`${url}/api/v1/runs`)).status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(`${url}/api/v1/runs`, { headers: auth })).status).toBe(200);

    // A notebook sent to the deployed server: it builds the workflow's image from its own
    // packages, pushes it, and runs each task as a pod in the run namespace.
    const notebook = notebookText([code('const xs = [1, 2, 3, 4];', { task: 'make' }), code('const total = xs.reduce((a, b) => a + b, 0);\nconsole.log(`total=${total}`);', { task: 'sum' })]);
    const created = await fetch(`${url}/api/v1/runs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ notebook, notebookName: 'sum.ipynb' }) });
    const createdBody = (await created.json()) as { runId: string };
    expect({ status: created.status, body: createdBody }).toMatchObject({ status: 201 });
    let run: { status: string; tasks: { name: string; status: string }[] } = { status: 'queued', tasks: [] };
    for (const until = Date.now() + 180_000; !['succeeded', 'failed', 'cancelled'].includes(run.status) && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 1000));
      run = (await (await fetch(`${url}/api/v1/runs/${createdBody.runId}`, { headers: auth })).json()) as typeof run;
    }
    expect(run).toMatchObject({ status: 'succeeded', tasks: [{ name: 'make', status: 'succeeded' }, { name: 'sum', status: 'succeeded' }] });
    // The other replica answers for the same run: one PostgreSQL behind both.
    expect(await (await fetch(`${otherUrl}/api/v1/runs/${createdBody.runId}`, { headers: auth })).json()).toMatchObject({ status: 'succeeded' });
    expect(cluster.agent.history.map((p) => p.name)).toEqual(expect.arrayContaining([expect.stringContaining('make'), expect.stringContaining('sum')]));
  });
});
