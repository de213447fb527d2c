import type { Command } from 'commander';

/**
 * Declares the Kubernetes flags on a command (`run` and `server` share them). commander
 * hands them over as the runtime's KubernetesSettings (runtime/kubernetes-target.ts).
 */
export function kubernetesOptions(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'kubernetes: kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--namespace <ns>', "kubernetes: namespace for task pods (default: the context's, else default)")
    .option('--kube-target <file>', 'kubernetes: JSON with serviceAccountName, imagePullSecrets, nodeSelector, tolerations, env, secretEnv, podGC, systemRetries (env CELLGRAPH_KUBE_TARGET)')
    .option('--push <repository>', 'kubernetes: registry repository for the workflow image (env CELLGRAPH_IMAGE_REPO)')
    .option('--base <image>', 'kubernetes: base image with Node 20 (env CELLGRAPH_BASE_IMAGE)')
    .option('--insecure', 'kubernetes: plain HTTP to the registry (always so for localhost)');
}
