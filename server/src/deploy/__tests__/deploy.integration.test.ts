/**
 * The rendered manifests against a real kube-apiserver (dev services): every object passes
 * a strict server-side dry run (full validation and admission, unknown fields refused,
 * nothing stored). One apiserver for the file: it is slow to start.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { KubeApiServer, startKubeApiServer, strictDryRunCreate } from '@cellgraph/dev/services/kube-apiserver';
import { manifestList, parseDeployOptions, renderManifests } from '..';
import { allDeployFlags } from './deploy-flags';

let kube: KubeApiServer;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  kube = await startKubeApiServer();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  for (const name of ['cellgraph', 'cellgraph-runs', 'cellgraph-cli']) await core.createNamespace({ body: { metadata: { name } } });
  await core.createNamespace({ body: { metadata: { name: 'cellgraph-restricted', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } } });
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

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli', 'main.js');

/** The built CLI as a process: exit code and both streams. */
function cellgraph(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

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

  it("lets the server's service account manage pods in the run namespace and nothing else (RBAC as the apiserver decides)", async () => {
    const m = renderManifests(parseDeployOptions(flags));
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    for (const o of [m.serviceAccount, m.role, m.roleBinding]) await objects.create(o);
    const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    const can = async (verb: string, resource: string, namespace: string, subresource?: string) => {
      const review = await authz.createSubjectAccessReview({
        body: { spec: { user: 'system:serviceaccount:cellgraph:cellgraph', groups: ['system:serviceaccounts', 'system:serviceaccounts:cellgraph', 'system:authenticated'], resourceAttributes: { verb, resource, subresource, namespace } } }
      });
      return review.status?.allowed === true;
    };
    for (const verb of ['create', 'get', 'list', 'watch', 'delete']) expect(await can(verb, 'pods', 'cellgraph-runs')).toBe(true);
    expect(await can('get', 'pods', 'cellgraph-runs', 'log')).toBe(true);
    expect(await can('create', 'pods', 'cellgraph')).toBe(false);
    expect(await can('patch', 'pods', 'cellgraph-runs')).toBe(false);
    expect(await can('create', 'pods', 'cellgraph-runs', 'exec')).toBe(false);
    expect(await can('get', 'secrets', 'cellgraph-runs')).toBe(false);
    expect(await can('list', 'pods', 'default')).toBe(false);
  });

  it('takes the YAML `cellgraph deploy render` prints, as kubectl apply -f - would', async () => {
    const r = cellgraph('deploy', 'render', '--image', flags.image, '--store', flags.store, '--database-secret', 'cg-db:url', '--token-secret', 'cg-api', '--s3-secret', 'cg-s3', '--namespace', 'cellgraph-cli');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const objects = k8s.loadAllYaml(r.stdout) as k8s.KubernetesObject[];
    expect(objects).toHaveLength(7);
    for (const o of objects) expect({ kind: o.kind, status: (await strictDryRunCreate(kube, collectionPath(o), o)).status }).toEqual({ kind: o.kind, status: 201 });
  });

  it('exits 2 naming the flag for a bad value, printing no manifests', () => {
    const r = cellgraph('deploy', 'render', '--image', flags.image, '--store', flags.store, '--database-secret', 'cg-db', '--token-secret', 'cg-api', '--replicas', '0');
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toContain('--replicas');
    const missing = cellgraph('deploy', 'render', '--store', flags.store, '--database-secret', 'cg-db', '--token-secret', 'cg-api');
    expect({ code: missing.code, stdout: missing.stdout }).toEqual({ code: 2, stdout: '' });
    expect(missing.stderr).toContain("required option '--image <ref>'");
  });

  it("makes pods the 'restricted' Pod Security Standard admits", async () => {
    const { deployment } = renderManifests(parseDeployOptions({ ...flags, namespace: 'cellgraph-restricted' }));
    const template = deployment.spec!.template;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cellgraph-0', namespace: 'cellgraph-restricted', labels: template.metadata!.labels }, spec: template.spec };
    const res = await strictDryRunCreate(kube, collectionPath(pod), pod);
    expect({ status: res.status, body: res.status === 201 ? 'created' : res.body }).toEqual({ status: 201, body: 'created' });
    // The namespace does enforce it: a root container is refused.
    const root = { ...pod, spec: { ...pod.spec, securityContext: {}, containers: pod.spec!.containers.map((c) => ({ ...c, securityContext: {} })) } };
    const refused = await strictDryRunCreate(kube, collectionPath(root), root);
    expect(refused.status).toBe(403);
    expect((refused.body as { message: string }).message).toContain('violates PodSecurity "restricted');
  });

  it('would be refused with a field the API does not know (the dry run is strict)', async () => {
    const { deployment } = renderManifests(parseDeployOptions(flags));
    const bad = { ...deployment, spec: { ...deployment.spec, replica: 2 } };
    const res = await strictDryRunCreate(kube, collectionPath(deployment), bad);
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toContain('unknown field "spec.replica"');
  });
});
