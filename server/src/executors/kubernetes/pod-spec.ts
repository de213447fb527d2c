import { createHash } from 'node:crypto';
import type { ImageRef, TaskInvocation, TaskPolicy } from '@cellgraph/schema';
import { z } from 'zod';
import { ARCHIVE_LOGS_ENV, INVOCATION_ENV, withSecretNames } from '../task-entry-protocol';

/**
 * Pod manifests for task attempts: one pod per attempt, no driver pod. Pure functions, so
 * the manifest can be checked without a cluster (and by a real API server in dry-run).
 */

/** Where and how pods run: the executor's configuration, validated at start-up. */
export const KubernetesTarget = z
  .object({
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name').max(63),
    serviceAccountName: z.string().max(253).optional(),
    imagePullSecrets: z.array(z.string().max(253)).default([]),
    nodeSelector: z.record(z.string()).default({}),
    tolerations: z
      .array(
        z
          .object({
            key: z.string().optional(),
            operator: z.enum(['Exists', 'Equal']).optional(),
            value: z.string().optional(),
            effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
            tolerationSeconds: z.number().int().optional()
          })
          .strict()
      )
      .default([]),
    /** The extended resource name GPUs are requested under. */
    gpuResource: z.string().default('nvidia.com/gpu'),
    /** Environment every task pod gets (e.g. AWS_REGION for the S3 store); secrets go through secretEnv. */
    env: z.record(z.string()).default({}),
    /** Store credentials and the like, from Secrets: never copied into the IR, logs or artifacts. */
    secretEnv: z.array(z.object({ env: z.string(), secret: z.string(), key: z.string() }).strict()).default([]),
    /** Where the workflow's files are inside the image (the image builder's WorkingDir). */
    workDir: z.string().startsWith('/').default('/app/work'),
    /** Times an attempt is started again after the platform lost it (eviction, node loss, pod deleted); separate from the task's retries. */
    systemRetries: z.number().int().min(0).max(20).default(3),
    /** How long a pod may stay unable to start (image pull errors, missing Secret, unschedulable) before its attempt fails. */
    stuckPendingSeconds: z.number().positive().default(120),
    /** Which finished pods are deleted: all, only succeeded ones (failed kept for `kubectl describe`), or none. */
    podGC: z.enum(['always', 'onSuccess', 'never']).default('onSuccess')
  })
  .strict();
export type KubernetesTarget = z.infer<typeof KubernetesTarget>;

/** The subset of core/v1 Pod that cellgraph writes. */
export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    restartPolicy: 'Never';
    activeDeadlineSeconds?: number;
    serviceAccountName?: string;
    imagePullSecrets?: { name: string }[];
    nodeSelector?: Record<string, string>;
    tolerations?: KubernetesTarget['tolerations'];
    containers: {
      name: string;
      image: string;
      workingDir?: string;
      env: PodEnv;
      terminationMessagePolicy: 'FallbackToLogsOnError';
      resources: ReturnType<typeof taskResources>;
    }[];
  };
}

/** A container's env: plain values, and Secret references (never their values). */
export type PodEnv = ({ name: string; value: string } | { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } })[];

/** A container's resources from a task's policy: GPUs as requests = limits (extended resources require it), memory limited so an overrun is a visible OOMKill. */
export function taskResources(policy: TaskPolicy, gpuResource: string): { requests?: Record<string, string>; limits?: Record<string, string> } {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  const r = policy.resources;
  if (r.cpu !== undefined) requests.cpu = String(r.cpu);
  if (r.memory !== undefined) {
    requests.memory = r.memory;
    limits.memory = r.memory;
  }
  if (r.gpu) {
    requests[gpuResource] = String(r.gpu);
    limits[gpuResource] = String(r.gpu);
  }
  return { ...(Object.keys(requests).length > 0 ? { requests } : {}), ...(Object.keys(limits).length > 0 ? { limits } : {}) };
}

/** A task container's env from the target and the task's policy; secrets by reference only. */
export function taskEnv(policy: TaskPolicy, target: Pick<KubernetesTarget, 'env' | 'secretEnv'>): PodEnv {
  return [
    ...Object.entries(target.env).map(([name, value]) => ({ name, value })),
    ...Object.entries(policy.env).map(([name, value]) => ({ name, value })),
    ...[...target.secretEnv, ...policy.secrets].map((s) => ({ name: s.env, valueFrom: { secretKeyRef: { name: s.secret, key: s.key } } }))
  ];
}

/** `registry/repository@sha256:…`: pods run exactly the image that was built, never a moved tag. */
export function imageByDigest(image: ImageRef): string {
  return `${image.reference.replace(/[:@][^/]*$/, '')}@${image.digest}`;
}

/** Labels that link a pod to its run, task and attempt: how a restarted server finds its pods again. */
export const PodLabels = {
  managedBy: 'app.kubernetes.io/managed-by',
  run: 'cellgraph.dev/run',
  task: 'cellgraph.dev/task',
  attempt: 'cellgraph.dev/attempt',
  workflow: 'cellgraph.dev/workflow',
  systemRetry: 'cellgraph.dev/system-retry',
  /** A foreach element's index (absent on other tasks' pods). */
  element: 'cellgraph.dev/element'
} as const;

/** A label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (cleaned.length <= 63) return cleaned;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${cleaned.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`;
}

/**
 * A DNS-1123 pod name from run, task, foreach element and attempt, unique per attempt and
 * at most 63 characters (a hash keeps long names distinct).
 */
export function podName(runId: string, task: string, attempt: number, systemRetry = 0, element?: number): string {
  const suffix = systemRetry > 0 ? `-s${systemRetry}` : '';
  const at = element !== undefined ? `e${element}-${attempt}` : `${attempt}`;
  const base = `cg-${runId}-${task}-${at}${suffix}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-');
  if (base.length <= 63) return base.replace(/-$/, '');
  const hash = createHash('sha256').update(`${runId}/${task}/${element !== undefined ? `e${element}/` : ''}${attempt}${suffix}`).digest('hex').slice(0, 10);
  return `${base.slice(0, 52).replace(/-+$/, '')}-${hash}`;
}

/**
 * The pod of one task attempt: the workflow's image by digest, the runner as command
 * (from the image's entrypoint), the invocation in the environment, resources from the
 * task's policy (GPUs as requests = limits, as extended resources require), the timeout
 * as activeDeadlineSeconds, `restartPolicy: Never` (retries are the engine's, per attempt).
 */
export function podForAttempt(input: {
  workflow: string;
  policy: TaskPolicy;
  invocation: TaskInvocation;
  image: ImageRef;
  target: KubernetesTarget;
  workingDir?: string;
  /** 0 for the attempt's first pod; n for the pod started after the platform lost n of them. */
  systemRetry?: number;
}): PodManifest {
  const { policy, invocation, image, target } = input;
  const systemRetry = input.systemRetry ?? 0;
  const env: PodEnv = [
    ...taskEnv(policy, target),
    { name: INVOCATION_ENV, value: JSON.stringify(withSecretNames(invocation, [...target.secretEnv, ...policy.secrets])) },
    // The pod's output is gone with the pod: the runner archives its own log in the store.
    { name: ARCHIVE_LOGS_ENV, value: '1' }
  ];
  const resources = taskResources(policy, target.gpuResource);
  const labels: Record<string, string> = {
    [PodLabels.managedBy]: 'cellgraph',
    [PodLabels.run]: labelValue(invocation.runId),
    [PodLabels.task]: labelValue(invocation.task),
    [PodLabels.attempt]: String(invocation.attempt),
    [PodLabels.workflow]: labelValue(input.workflow),
    [PodLabels.systemRetry]: String(systemRetry),
    ...(invocation.element !== undefined ? { [PodLabels.element]: String(invocation.element) } : {})
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(invocation.runId, invocation.task, invocation.attempt, systemRetry, invocation.element),
      namespace: target.namespace,
      labels,
      // Labels are truncated; annotations keep the exact ids.
      annotations: { 'cellgraph.dev/run-id': invocation.runId, 'cellgraph.dev/workflow-version': invocation.workflowVersion }
    },
    spec: {
      restartPolicy: 'Never',
      ...(policy.timeoutSeconds !== undefined ? { activeDeadlineSeconds: Math.ceil(policy.timeoutSeconds) } : {}),
      ...(target.serviceAccountName ? { serviceAccountName: target.serviceAccountName } : {}),
      ...(target.imagePullSecrets.length > 0 ? { imagePullSecrets: target.imagePullSecrets.map((name) => ({ name })) } : {}),
      ...(Object.keys(target.nodeSelector).length > 0 ? { nodeSelector: target.nodeSelector } : {}),
      ...(target.tolerations.length > 0 ? { tolerations: target.tolerations } : {}),
      containers: [
        {
          name: 'task',
          image: imageByDigest(image),
          ...(input.workingDir ? { workingDir: input.workingDir } : {}),
          env,
          // A runner that dies before filing a result (store unreachable, OOM) explains itself in its last lines.
          terminationMessagePolicy: 'FallbackToLogsOnError',
          resources
        }
      ]
    }
  };
}
