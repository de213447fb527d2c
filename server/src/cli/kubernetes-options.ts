import * as fs from 'node:fs';
import type { Command } from 'commander';
import { ValidationError } from '../errors';
import { KubernetesTarget } from '../executors/kubernetes/pod-spec';
import { firstZodIssue } from '../zod-issue';

/**
 * Flags and environment that say where and how pods run (`run` and `server` share them).
 * Kept apart from kubernetes-session.ts so declaring the flags loads no Kubernetes client.
 */
export interface KubernetesFlags {
  /** A kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account). */
  kubeconfig?: string;
  /** Overrides the target's namespace (default: the kubeconfig context's namespace, else `default`). */
  namespace?: string;
  /** A JSON file with the KubernetesTarget: service account, pull secrets, node selector, tolerations, env, secretEnv, podGC, ... */
  kubeTarget?: string;
  /** Repository the workflow's image is pushed to, e.g. registry.example.com/team/iris. */
  push?: string;
  base?: string;
  insecure?: boolean;
}

/** Declares the Kubernetes flags on a command. */
export function kubernetesOptions(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'kubernetes: kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--namespace <ns>', "kubernetes: namespace for task pods (default: the context's, else default)")
    .option('--kube-target <file>', 'kubernetes: JSON with serviceAccountName, imagePullSecrets, nodeSelector, tolerations, env, secretEnv, podGC, systemRetries (env CELLGRAPH_KUBE_TARGET)')
    .option('--push <repository>', 'kubernetes: registry repository for the workflow image (env CELLGRAPH_IMAGE_REPO)')
    .option('--base <image>', 'kubernetes: base image with Node 20 (env CELLGRAPH_BASE_IMAGE)')
    .option('--insecure', 'kubernetes: plain HTTP to the registry (always so for localhost)');
}

/**
 * The target from --kube-target / CELLGRAPH_KUBE_TARGET (JSON), its namespace from
 * --namespace, the file, or `fallbackNamespace`; errors name the field and the file.
 */
export function readKubernetesTarget(flags: Pick<KubernetesFlags, 'kubeTarget' | 'namespace'>, fallbackNamespace: string, env: NodeJS.ProcessEnv = process.env): KubernetesTarget {
  const file = flags.kubeTarget ?? env.CELLGRAPH_KUBE_TARGET;
  let raw: Record<string, unknown> = {};
  if (file) {
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ValidationError(`--kube-target ${file}: ${(err as Error).message}`, 'kube-target');
    }
  }
  const namespace = flags.namespace ?? (typeof raw.namespace === 'string' ? raw.namespace : undefined) ?? fallbackNamespace;
  const parsed = KubernetesTarget.safeParse({ ...raw, namespace });
  if (!parsed.success) {
    const issue = firstZodIssue(parsed.error);
    const field = issue.path.join('.');
    throw new ValidationError(`kubernetes target${file ? ` (${file})` : ''}: ${field}: ${issue.message}`, `kube-target.${field}`);
  }
  return parsed.data;
}
