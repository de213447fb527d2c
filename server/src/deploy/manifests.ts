import { createHash } from 'node:crypto';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1EnvVar,
  V1PodDisruptionBudget,
  V1Probe,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount
} from '@kubernetes/client-node';
import type { KubernetesTarget } from '../executors/kubernetes/pod-spec';
import { ImagePaths } from '../images/workflow-layers';
import type { DeployOptions, SecretKeyRef } from './options';

/** The name every object of one deployment shares. */
export const APP_NAME = 'cellgraph';
/** The port the server listens on inside its pod. */
export const SERVER_PORT = 8787;
/** Where the ConfigMap's kube-target.json is mounted (CELLGRAPH_KUBE_TARGET). */
const CONFIG_DIR = '/etc/cellgraph';
/** Scratch space for the home: compile caches and built layers (state is in PostgreSQL, values in S3). */
const DATA_DIR = '/var/lib/cellgraph';
/** The `node` user of the Node base images (uid and gid 1000): the server never runs as root. */
const NODE_UID = 1000;
/** The server's drain period on SIGTERM (its --grace-seconds default); the pod gets a little more. */
const GRACE_SECONDS = 30;
/** Keys of the S3 Secret (the AWS SDK's variable names, so the Secret is the same one other tools read). */
export const S3_SECRET_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
/** What the server's Role allows in the run namespace: exactly what the Kubernetes executor calls. */
export const RUN_NAMESPACE_RULES = [
  { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }
];

/** The rendered objects, in the order they are applied (RBAC and config before the pods that use them). */
export interface DeployManifests {
  serviceAccount: V1ServiceAccount;
  role: V1Role;
  roleBinding: V1RoleBinding;
  configMap: V1ConfigMap;
  service: V1Service;
  deployment: V1Deployment;
  podDisruptionBudget: V1PodDisruptionBudget;
}

const labels = { 'app.kubernetes.io/name': APP_NAME, 'app.kubernetes.io/component': 'server', 'app.kubernetes.io/managed-by': 'cellgraph-deploy' };
const selector = { 'app.kubernetes.io/name': APP_NAME, 'app.kubernetes.io/component': 'server' };

const secretEnv = (name: string, ref: SecretKeyRef): V1EnvVar => ({ name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } });
const configEnv = (name: string): V1EnvVar => ({ name, valueFrom: { configMapKeyRef: { name: APP_NAME, key: name } } });

/** The target task pods run with: the run namespace and the S3 credentials by Secret reference, never the server's service account. */
function taskTarget(options: DeployOptions): Pick<KubernetesTarget, 'namespace' | 'env' | 'secretEnv'> {
  return {
    namespace: options.runNamespace,
    env: {},
    secretEnv: options.s3Secret ? S3_SECRET_KEYS.map((key) => ({ env: key, secret: options.s3Secret!, key })) : []
  };
}

/** Non-secret settings, as the server reads them from its environment (api/config.ts, runtime/home.ts). */
function settings(options: DeployOptions): Record<string, string> {
  return {
    CELLGRAPH_HOST: '0.0.0.0',
    CELLGRAPH_PORT: String(SERVER_PORT),
    CELLGRAPH_EXECUTOR: 'kubernetes',
    CELLGRAPH_HOME: `${DATA_DIR}/home`,
    // Under /app: a notebook there resolves its imports in the image's /app/node_modules and
    // its lockfile at /app, so the server can build its workflow image.
    CELLGRAPH_WORKDIR: ImagePaths.work,
    CELLGRAPH_STORE: options.store,
    CELLGRAPH_KUBE_TARGET: `${CONFIG_DIR}/kube-target.json`,
    ...(options.s3Endpoint ? { CELLGRAPH_S3_ENDPOINT: options.s3Endpoint } : {}),
    ...(options.workflowRepo ? { CELLGRAPH_IMAGE_REPO: options.workflowRepo } : {}),
    ...(options.workflowBase ? { CELLGRAPH_BASE_IMAGE: options.workflowBase } : {})
  };
}

function healthProbe(periodSeconds: number, failureThreshold: number, initialDelaySeconds: number): V1Probe {
  return { httpGet: { path: '/api/v1/health', port: 'http' }, periodSeconds, failureThreshold, initialDelaySeconds, timeoutSeconds: 3 };
}

/**
 * The objects that run `cellgraph server` on Kubernetes: N replicas sharing PostgreSQL and
 * S3, the Kubernetes executor with in-cluster credentials limited by a Role to pods in the
 * run namespace, and secrets only by reference. Pure: same options, same objects.
 */
export function renderManifests(options: DeployOptions): DeployManifests {
  const { namespace } = options;
  const meta = (name: string, ns = namespace) => ({ name, namespace: ns, labels });
  const env = settings(options);
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(APP_NAME),
    data: { ...env, 'kube-target.json': `${JSON.stringify(taskTarget(options), null, 2)}\n` }
  };
  // A config change must roll the pods: the ConfigMap's hash is part of the pod template.
  const configHash = createHash('sha256').update(JSON.stringify(configMap.data)).digest('hex').slice(0, 16);

  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(APP_NAME),
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: selector },
      // Never below the wanted count while rolling: a new pod must be ready before an old one drains.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: { 'cellgraph.dev/config-hash': configHash } },
        spec: {
          serviceAccountName: APP_NAME,
          terminationGracePeriodSeconds: GRACE_SECONDS + 15,
          securityContext: { runAsNonRoot: true, runAsUser: NODE_UID, runAsGroup: NODE_UID, fsGroup: NODE_UID, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'server',
              image: options.image,
              args: ['server', '--grace-seconds', String(GRACE_SECONDS)],
              ports: [{ name: 'http', containerPort: SERVER_PORT, protocol: 'TCP' }],
              env: [
                ...Object.keys(env).map(configEnv),
                // The pod's name: a restarted container takes its own run leases back at once.
                { name: 'CELLGRAPH_REPLICA_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                secretEnv('CELLGRAPH_TOKEN', options.tokenSecret),
                secretEnv('CELLGRAPH_DATABASE_URL', options.databaseSecret),
                ...(options.s3Secret ? S3_SECRET_KEYS.map((key) => secretEnv(key, { name: options.s3Secret!, key })) : [])
              ],
              readinessProbe: healthProbe(5, 3, 2),
              livenessProbe: healthProbe(10, 6, 15),
              resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '3Gi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                { name: 'data', mountPath: DATA_DIR },
                { name: 'work', mountPath: ImagePaths.work },
                { name: 'tmp', mountPath: '/tmp' }
              ]
            }
          ],
          volumes: [
            { name: 'config', configMap: { name: APP_NAME, items: [{ key: 'kube-target.json', path: 'kube-target.json' }] } },
            { name: 'data', emptyDir: { sizeLimit: '2Gi' } },
            { name: 'work', emptyDir: { sizeLimit: '1Gi' } },
            { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }
          ]
        }
      }
    }
  };

  return {
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(APP_NAME) },
    role: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(`${APP_NAME}-runs`, options.runNamespace), rules: RUN_NAMESPACE_RULES },
    roleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(`${APP_NAME}-runs`, options.runNamespace),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${APP_NAME}-runs` },
      subjects: [{ kind: 'ServiceAccount', name: APP_NAME, namespace }]
    },
    configMap,
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(APP_NAME),
      spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] }
    },
    deployment,
    podDisruptionBudget: {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(APP_NAME),
      spec: { minAvailable: 1, selector: { matchLabels: selector } }
    }
  };
}

/** The objects in apply order. */
export function manifestList(m: DeployManifests): KubernetesObject[] {
  return [m.serviceAccount, m.role, m.roleBinding, m.configMap, m.service, m.deployment, m.podDisruptionBudget];
}
