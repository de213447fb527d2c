/**
 * The rendered manifests against a real kube-apiserver (dev services): every object passes
 * a strict server-side dry run (full validation and admission, unknown fields refused,
 * nothing stored). One apiserver for the file: it is slow to start.
 */
import * as k8s from '@kubernetes/client-node';
import { KubeApiServer, startKubeApiServer, strictDryRunCreate } from '@cellgraph/dev/services/kube-apiserver';
import { manifestList, parseDeployOptions, renderManifests } from '..';
import { allDeployFlags } from './deploy-flags';

let kube: KubeApiServer;

beforeAll(async () => {
  kube = await startKubeApiServer();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  for (const name of ['cellgraph', 'cellgraph-runs']) await core.createNamespace({ body: { metadata: { name } } });
}, 120_000);

afterAll(async () => {
  await kube?.stop();
});

/** The collection an object is created in: `/api/v1/...` for the core group, `/apis/<group>/<version>/...` otherwise. */
function collectionPath(o: k8s.KubernetesObject): string {
  const base = o.apiVersion!.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  return `${base}/namespaces/${o.metadata!.namespace}/${o.kind!.toLowerCase()}s`;
}

const flags = allDeployFlags;

describe('cellgraph deploy render on a real kube-apiserver', () => {
  it.each([
    ['with every flag', flags],
    ['with only the required flags (one namespace, no S3 secret)', { image: flags.image, store: flags.store, databaseSecret: 'cg-db', tokenSecret: 'cg-api' }]
  ])('passes a strict server-side dry run of every object, %s', async (_what, given) => {
    const objects = manifestList(renderManifests(parseDeployOptions(given)));
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget']);
    for (const o of objects) {
      const res = await strictDryRunCreate(kube, collectionPath(o), o);
      expect({ kind: o.kind, status: res.status, body: res.status === 201 ? 'created' : res.body }).toEqual({ kind: o.kind, status: 201, body: 'created' });
    }
  });

  it('would be refused with a field the API does not know (the dry run is strict)', async () => {
    const { deployment } = renderManifests(parseDeployOptions(flags));
    const bad = { ...deployment, spec: { ...deployment.spec, replica: 2 } };
    const res = await strictDryRunCreate(kube, collectionPath(deployment), bad);
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toContain('unknown field "spec.replica"');
  });
});
