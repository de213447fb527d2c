import { loadAllYaml } from '@kubernetes/client-node';
import { ValidationError } from '../../errors';
import { RUN_NAMESPACE_RULES, manifestList, manifestsJson, manifestsYaml, parseDeployOptions, renderManifests } from '..';
import { allDeployFlags } from './deploy-flags';

const flags = allDeployFlags;

describe('cellgraph deploy render', () => {
  const options = parseDeployOptions(flags);
  const m = renderManifests(options);
  const container = m.deployment.spec!.template.spec!.containers[0];

  it('runs two replicas by default, rolling without dropping below them, and a PDB keeps one', () => {
    expect(m.deployment.spec!.replicas).toBe(2);
    expect(m.deployment.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(m.podDisruptionBudget.spec!.minAvailable).toBe(1);
    expect(m.podDisruptionBudget.spec!.selector).toEqual(m.deployment.spec!.selector);
    expect(m.service.spec!.selector).toEqual(m.deployment.spec!.selector!.matchLabels);
    expect(renderManifests(parseDeployOptions({ ...flags, replicas: '3' })).deployment.spec!.replicas).toBe(3);
  });

  it('probes readiness and liveness on the health route', () => {
    for (const probe of [container.readinessProbe, container.livenessProbe]) expect(probe?.httpGet).toEqual({ path: '/api/v1/health', port: 'http' });
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8787, protocol: 'TCP' }]);
  });

  it('runs as non-root with a read-only root filesystem and requests resources', () => {
    expect(m.deployment.spec!.template.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources?.requests).toBeDefined();
    expect(container.resources?.limits?.memory).toBeDefined();
  });

  it('grants the service account exactly the pod verbs the executor uses, in the run namespace only', () => {
    expect(m.role.metadata!.namespace).toBe('cellgraph-runs');
    expect(m.role.rules).toEqual(RUN_NAMESPACE_RULES);
    expect(m.role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }
    ]);
    expect(m.roleBinding.metadata!.namespace).toBe('cellgraph-runs');
    expect(m.roleBinding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'cellgraph', namespace: 'cellgraph' }]);
    expect(m.deployment.spec!.template.spec!.serviceAccountName).toBe(m.serviceAccount.metadata!.name);
    // Task pods get the run namespace and S3 credentials by reference, not the server's account.
    const target = JSON.parse(m.configMap.data!['kube-target.json']) as Record<string, unknown>;
    expect(target).toEqual({
      namespace: 'cellgraph-runs',
      env: {},
      secretEnv: [
        { env: 'AWS_ACCESS_KEY_ID', secret: 'cg-s3', key: 'AWS_ACCESS_KEY_ID' },
        { env: 'AWS_SECRET_ACCESS_KEY', secret: 'cg-s3', key: 'AWS_SECRET_ACCESS_KEY' }
      ]
    });
  });

  it('takes secrets only by reference and settings from the ConfigMap', () => {
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
    expect(env.CELLGRAPH_TOKEN.valueFrom?.secretKeyRef).toEqual({ name: 'cg-api', key: 'api-token' });
    expect(env.CELLGRAPH_DATABASE_URL.valueFrom?.secretKeyRef).toEqual({ name: 'cg-db', key: 'url' });
    expect(env.AWS_SECRET_ACCESS_KEY.valueFrom?.secretKeyRef).toEqual({ name: 'cg-s3', key: 'AWS_SECRET_ACCESS_KEY' });
    expect(env.CELLGRAPH_REPLICA_ID.valueFrom?.fieldRef).toEqual({ fieldPath: 'metadata.name' });
    for (const e of container.env ?? []) expect(e.value).toBeUndefined();
    expect(m.configMap.data).toMatchObject({ CELLGRAPH_EXECUTOR: 'kubernetes', CELLGRAPH_STORE: 's3://cellgraph-prod/artifacts', CELLGRAPH_S3_ENDPOINT: 'http://minio.storage:9000', CELLGRAPH_HOST: '0.0.0.0' });
    for (const key of ['CELLGRAPH_TOKEN', 'CELLGRAPH_DATABASE_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) expect(m.configMap.data).not.toHaveProperty(key);
  });

  it('gives the server writable scratch under a read-only root: the home, /tmp, and the workdir under /app (where notebooks find the image\'s packages)', () => {
    expect(m.configMap.data).toMatchObject({ CELLGRAPH_WORKDIR: '/app/work', CELLGRAPH_HOME: '/var/lib/cellgraph/home' });
    const volumes = Object.fromEntries((m.deployment.spec!.template.spec!.volumes ?? []).map((v) => [v.name, v]));
    for (const mount of container.volumeMounts ?? []) expect(volumes[mount.name]).toBeDefined();
    expect((container.volumeMounts ?? []).filter((v) => volumes[v.name].emptyDir).map((v) => v.mountPath).sort()).toEqual(['/app/work', '/tmp', '/var/lib/cellgraph']);
    expect(renderManifests(parseDeployOptions({ ...flags, workflowBase: 'mirror.example.com/node:24' })).configMap.data!.CELLGRAPH_BASE_IMAGE).toBe('mirror.example.com/node:24');
  });

  it('rolls the pods when a setting changes', () => {
    const hash = (o: typeof m) => o.deployment.spec!.template.metadata!.annotations!['cellgraph.dev/config-hash'];
    expect(hash(renderManifests(parseDeployOptions(flags)))).toBe(hash(m));
    expect(hash(renderManifests(parseDeployOptions({ ...flags, store: 's3://other' })))).not.toBe(hash(m));
  });

  it('renders YAML documents and a JSON List holding the same objects', () => {
    const objects = JSON.parse(JSON.stringify(manifestList(m))) as unknown[];
    expect((JSON.parse(manifestsJson(m)) as { items: unknown[] }).items).toEqual(objects);
    const docs = loadAllYaml(manifestsYaml(m)) as { kind: string }[];
    expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget']);
    // Nothing dropped or changed on the way through the client's serializer.
    expect(JSON.parse(JSON.stringify(docs))).toEqual(objects);
  });

  it.each([
    [{ replicas: '0' }, '--replicas'],
    [{ replicas: 'two' }, '--replicas'],
    [{ store: 'cellgraph-prod' }, '--store'],
    [{ image: 'Not An Image' }, '--image'],
    [{ databaseSecret: 'Bad_Name' }, '--database-secret'],
    [{ tokenSecret: 'cg-api:' }, '--token-secret'],
    [{ namespace: 'Prod' }, '--namespace'],
    [{ runNamespace: 'runs.x' }, '--run-namespace'],
    [{ s3Endpoint: 'minio:9000 x' }, '--s3-endpoint'],
    [{ image: undefined }, '--image'],
    [{ workflowBase: 'Bad Base' }, '--workflow-base']
  ])('refuses %j naming %s', (bad, flag) => {
    let error: unknown;
    try {
      parseDeployOptions({ ...flags, ...bad });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(flag);
    expect((error as Error).message).toContain(flag);
  });
});
