import { createHash } from 'node:crypto';
import type { ImageRef, TaskInvocation, TaskIR } from '@cellgraph/schema';
import { z } from 'zod';
import { INVOCATION_ENV } from '../task-entry-protocol';

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
    secretEnv: z.array(z.object({ env: z.string(), secret: z.string(), key: z.string() }).strict()).default([])
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
      env: ({ name: string; value: string } | { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } })[];
      resources: { requests?: Record<string, string>; limits?: Record<string, string> };
    }[];
  };
}

/** Labels that link a pod to its run, task and attempt: how a restarted server finds its pods again. */
export const PodLabels = {
  managedBy: 'app.kubernetes.io/managed-by',
  run: 'cellgraph.dev/run',
  task: 'cellgraph.dev/task',
  attempt: 'cellgraph.dev/attempt',
  workflow: 'cellgraph.dev/workflow'
} as const;

/** A label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (cleaned.length <= 63) return cleaned;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${cleaned.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`;
}

/**
 * A DNS-1123 pod name from run, task and attempt, unique per attempt and at most 63
 * characters (a hash keeps long names distinct).
 */
export function podName(runId: string, task: string, attempt: number): string {
  const base = `cg-${runId}-${task}-${attempt}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-');
  if (base.length <= 63) return base.replace(/-$/, '');
  const hash = createHash('sha256').update(`${runId}/${task}/${attempt}`).digest('hex').slice(0, 10);
  return `${base.slice(0, 52).replace(/-+$/, '')}-${hash}`;
}

/**
 * The pod of one task attempt: the workflow's image by digest, the runner as command
 * (from the image's entrypoint), the invocation in the environment, resources from the
 * task's policy (GPUs as requests = limits, as extended resources require), the timeout
 * as activeDeadlineSeconds, `restartPolicy: Never` (retries are the engine's, per attempt).
 */
export function podForAttempt(input: { workflow: string; task: TaskIR; invocation: TaskInvocation; image: ImageRef; target: KubernetesTarget; workingDir?: string }): PodManifest {
  const { task, invocation, image, target } = input;
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  const r = task.policy.resources;
  if (r.cpu !== undefined) requests.cpu = String(r.cpu);
  if (r.memory !== undefined) {
    requests.memory = r.memory;
    // Memory above the limit is an OOMKill: the limit is what makes that failure visible.
    limits.memory = r.memory;
  }
  if (r.gpu) {
    requests[target.gpuResource] = String(r.gpu);
    limits[target.gpuResource] = String(r.gpu);
  }
  const env: PodManifest['spec']['containers'][number]['env'] = [
    ...Object.entries(target.env).map(([name, value]) => ({ name, value })),
    ...Object.entries(task.policy.env).map(([name, value]) => ({ name, value })),
    ...[...target.secretEnv, ...task.policy.secrets].map((s) => ({ name: s.env, valueFrom: { secretKeyRef: { name: s.secret, key: s.key } } })),
    { name: INVOCATION_ENV, value: JSON.stringify(invocation) }
  ];
  const reference = image.reference.replace(/[:@][^/]*$/, '');
  const labels: Record<string, string> = {
    [PodLabels.managedBy]: 'cellgraph',
    [PodLabels.run]: labelValue(invocation.runId),
    [PodLabels.task]: labelValue(invocation.task),
    [PodLabels.attempt]: String(invocation.attempt),
    [PodLabels.workflow]: labelValue(input.workflow)
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(invocation.runId, invocation.task, invocation.attempt),
      namespace: target.namespace,
      labels,
      // Labels are truncated; annotations keep the exact ids.
      annotations: { 'cellgraph.dev/run-id': invocation.runId, 'cellgraph.dev/workflow-version': invocation.workflowVersion }
    },
    spec: {
      restartPolicy: 'Never',
      ...(task.policy.timeoutSeconds !== undefined ? { activeDeadlineSeconds: Math.ceil(task.policy.timeoutSeconds) } : {}),
      ...(target.serviceAccountName ? { serviceAccountName: target.serviceAccountName } : {}),
      ...(target.imagePullSecrets.length > 0 ? { imagePullSecrets: target.imagePullSecrets.map((name) => ({ name })) } : {}),
      ...(Object.keys(target.nodeSelector).length > 0 ? { nodeSelector: target.nodeSelector } : {}),
      ...(target.tolerations.length > 0 ? { tolerations: target.tolerations } : {}),
      containers: [
        {
          name: 'task',
          image: `${reference}@${image.digest}`,
          ...(input.workingDir ? { workingDir: input.workingDir } : {}),
          env,
          resources: { ...(Object.keys(requests).length > 0 ? { requests } : {}), ...(Object.keys(limits).length > 0 ? { limits } : {}) }
        }
      ]
    }
  };
}
