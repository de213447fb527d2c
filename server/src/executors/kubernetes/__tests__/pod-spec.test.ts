/** Pod manifests for task attempts: what a pod carries, and what it must never carry. */
import type { TaskInvocation, TaskPolicy } from '@cellgraph/schema';
import { KubernetesTarget, PodLabels, labelValue, podForAttempt, podName } from '../pod-spec';

const digest = `sha256:${'a'.repeat(64)}`;
const policy = (extra: Partial<TaskPolicy> = {}): TaskPolicy => ({ retries: 0, cache: true, resources: {}, env: {}, secrets: [], ...extra });
const invocation: TaskInvocation = {
  runId: 'r-20261124t101010-abc123',
  task: 'train',
  attempt: 2,
  workflowVersion: digest,
  workDir: '/app/work',
  inputs: {},
  outputTypes: {},
  params: { lr: 0.1 },
  store: { kind: 's3', bucket: 'artifacts', prefix: 'team', region: 'eu-west-1', forcePathStyle: false }
};
const target = (extra: Partial<KubernetesTarget> = {}) => KubernetesTarget.parse({ namespace: 'ml', ...extra });
const image = { reference: '127.0.0.1:5000/team/iris:cg-123@' + digest, digest };

it('runs the image by digest with the invocation in the environment, restartPolicy Never, and labels back to run/task/attempt', () => {
  const pod = podForAttempt({ workflow: 'iris', policy: policy(), invocation, image, target: target() });
  expect(pod.spec.restartPolicy).toBe('Never');
  expect(pod.spec.containers[0].image).toBe(`127.0.0.1:5000/team/iris@${digest}`);
  expect(pod.metadata.namespace).toBe('ml');
  expect(pod.metadata.labels).toMatchObject({ [PodLabels.run]: invocation.runId, [PodLabels.task]: 'train', [PodLabels.attempt]: '2', [PodLabels.managedBy]: 'cellgraph' });
  const env = pod.spec.containers[0].env;
  const inv = env.find((e) => e.name === 'CELLGRAPH_INVOCATION');
  expect(inv && 'value' in inv ? JSON.parse(inv.value) : undefined).toEqual(invocation);
  expect(pod.spec.activeDeadlineSeconds).toBeUndefined();
  expect(pod.spec.containers[0].resources).toEqual({});
});

it('maps resources (GPUs as requests = limits under the configured name), timeout, scheduling and pull secrets', () => {
  const pod = podForAttempt({
    workflow: 'iris',
    policy: policy({ resources: { cpu: '500m', memory: '2Gi', gpu: 1 }, timeoutSeconds: 90.5 }),
    invocation,
    image,
    target: target({ serviceAccountName: 'runner', imagePullSecrets: ['regcred'], nodeSelector: { pool: 'gpu' }, tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] })
  });
  expect(pod.spec.containers[0].resources).toEqual({ requests: { cpu: '500m', memory: '2Gi', 'nvidia.com/gpu': '1' }, limits: { memory: '2Gi', 'nvidia.com/gpu': '1' } });
  expect(pod.spec.activeDeadlineSeconds).toBe(91);
  expect(pod.spec).toMatchObject({ serviceAccountName: 'runner', imagePullSecrets: [{ name: 'regcred' }], nodeSelector: { pool: 'gpu' }, tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] });
});

it('passes secrets by reference only: the value never appears in the manifest', () => {
  const pod = podForAttempt({
    workflow: 'iris',
    policy: policy({ secrets: [{ env: 'DB_PASSWORD', secret: 'db', key: 'password' }] }),
    invocation,
    image,
    target: target({ secretEnv: [{ env: 'AWS_SECRET_ACCESS_KEY', secret: 's3-creds', key: 'secret' }], env: { AWS_REGION: 'eu-west-1' } })
  });
  const env = pod.spec.containers[0].env;
  expect(env).toContainEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } });
  expect(env).toContainEqual({ name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 's3-creds', key: 'secret' } } });
  expect(env).toContainEqual({ name: 'AWS_REGION', value: 'eu-west-1' });
  // The runner redacts these variables' values from the task's log, cells and error: it gets their names.
  const inv = env.find((e) => e.name === 'CELLGRAPH_INVOCATION');
  expect(inv && 'value' in inv ? JSON.parse(inv.value) : undefined).toEqual({ ...invocation, secretEnv: ['AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD'] });
});

it('makes valid, unique names and label values from long or odd ids', () => {
  const long = `r-${'x'.repeat(120)}`;
  const a = podName(long, 'train', 1);
  const b = podName(long, 'train', 2);
  for (const n of [a, b, podName('r-1', 'a_b', 1)]) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  expect(a.length).toBeLessThanOrEqual(63);
  expect(a).not.toBe(b);
  expect(labelValue(long)).toMatch(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/);
  expect(labelValue(long)).not.toBe(labelValue(`${long}y`));
});

it('refuses a bad target configuration naming the field', () => {
  expect(() => KubernetesTarget.parse({ namespace: 'Bad_NS' })).toThrow(/namespace/);
  expect(() => KubernetesTarget.parse({ namespace: 'ok', tolerations: [{ operator: 'Maybe' }] })).toThrow(/operator/);
  expect(() => KubernetesTarget.parse({ namespace: 'ok', unknown: 1 })).toThrow(/unknown/);
});

it('gives each foreach element attempt its own pod, labelled with the element', () => {
  const pods = [0, 1].map((element) => podForAttempt({ workflow: 'iris', policy: policy(), invocation: { ...invocation, element }, image, target: target() }));
  expect(pods.map((p) => p.metadata.name)).toEqual([`cg-${invocation.runId}-train-e0-2`, `cg-${invocation.runId}-train-e1-2`]);
  expect(pods[1].metadata.labels[PodLabels.element]).toBe('1');
  expect(podForAttempt({ workflow: 'iris', policy: policy(), invocation, image, target: target() }).metadata.labels[PodLabels.element]).toBeUndefined();
  const long = 'r-' + 'x'.repeat(80);
  expect(podName(long, 'train', 1, 0, 7)).not.toBe(podName(long, 'train', 1, 0, 8));
});
