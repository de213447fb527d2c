import * as fs from 'node:fs';
import { ValidationError } from '../errors';
import { KubernetesTarget } from '../executors/kubernetes/pod-spec';
import { parseOrThrow } from '../zod-issue';

/**
 * Where and how pods run, and where the workflow's image goes, as the CLI's flags and the
 * environment give them (`run`, `server` and `export` share them). Kept apart from
 * kubernetes.ts so reading them loads no Kubernetes client.
 */
export interface KubernetesSettings {
  /** A kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account). */
  kubeconfig?: string;
  /** Overrides the target's namespace (default: the kubeconfig context's namespace, else `default`). */
  namespace?: string;
  /** A JSON file with the KubernetesTarget: service account, pull secrets, node selector, tolerations, env, secretEnv, podGC, ... (env CELLGRAPH_KUBE_TARGET). */
  kubeTarget?: string;
  /** Repository the workflow's image is pushed to, e.g. registry.example.com/team/iris (env CELLGRAPH_IMAGE_REPO). */
  push?: string;
  /** Base image (env CELLGRAPH_BASE_IMAGE). */
  base?: string;
  /** Plain HTTP to the registry (always so for localhost). */
  insecure?: boolean;
}

/**
 * The target from --kube-target / CELLGRAPH_KUBE_TARGET (JSON), its namespace from
 * --namespace, the file, or `fallbackNamespace`; errors name the field and the file.
 */
export function readKubernetesTarget(settings: Pick<KubernetesSettings, 'kubeTarget' | 'namespace'>, fallbackNamespace: string, env: NodeJS.ProcessEnv = process.env): KubernetesTarget {
  const file = settings.kubeTarget ?? env.CELLGRAPH_KUBE_TARGET;
  let raw: Record<string, unknown> = {};
  if (file) {
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ValidationError(`--kube-target ${file}: ${(err as Error).message}`, 'kube-target');
    }
  }
  const namespace = settings.namespace ?? (typeof raw.namespace === 'string' ? raw.namespace : undefined) ?? fallbackNamespace;
  return parseOrThrow(
    KubernetesTarget,
    { ...raw, namespace },
    { context: `kubernetes target${file ? ` (${file})` : ''}`, field: (p) => `kube-target.${p.join('.')}`, label: (p) => p.join('.') }
  );
}
