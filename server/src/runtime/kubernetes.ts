import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { StoreConfig, WorkflowIR } from '@cellgraph/schema';
import { ValidationError } from '../errors';
import { KubernetesExecutor } from '../executors/kubernetes/kubernetes-executor';
import { DEFAULT_BASE_IMAGE, buildImage, type BuildEvent } from '../images';
import type { ArtifactStore } from '../stores';
import { FilesystemStore } from '../stores';
import { type KubernetesSettings, readKubernetesTarget } from './kubernetes-target';

/**
 * The Kubernetes executor for a run from the CLI or the server: the kubeconfig loaded the
 * usual way, the target validated (errors name the field and the file), and the store
 * checked to be one pods can reach.
 */
export async function openKubernetesExecutor(
  settings: KubernetesSettings,
  store: ArtifactStore,
  storeConfig: StoreConfig,
  env: NodeJS.ProcessEnv = process.env,
  onWarning: (message: string) => void = (m) => process.stderr.write(`kubernetes: ${m}\n`)
): Promise<KubernetesExecutor> {
  if (storeConfig.kind !== 's3') {
    throw new ValidationError('the kubernetes executor needs an artifact store pods can reach: set CELLGRAPH_STORE=s3://bucket[/prefix] (and CELLGRAPH_S3_ENDPOINT for MinIO)', 'CELLGRAPH_STORE');
  }
  const kc = new k8s.KubeConfig();
  try {
    if (settings.kubeconfig) kc.loadFromFile(path.resolve(settings.kubeconfig));
    else kc.loadFromDefault();
  } catch (err) {
    throw new ValidationError(`cannot load the kubeconfig: ${(err as Error).message}`, 'kubeconfig');
  }
  if (kc.getCurrentCluster() === null) throw new ValidationError('no Kubernetes cluster configured: give --kubeconfig, set KUBECONFIG, or run in a pod', 'kubeconfig');
  const target = readKubernetesTarget(settings, kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default', env);
  const executor = new KubernetesExecutor({ kubeConfig: kc, target, store, onWarning });
  try {
    await executor.start();
  } catch (err) {
    executor.stop();
    throw new ValidationError(`cannot list pods in namespace ${target.namespace} at ${kc.getCurrentCluster()?.server}: ${(err as Error).message}`, 'kubeconfig');
  }
  return executor;
}

/**
 * Builds and pushes the workflow's image (reusing every unchanged layer; an unchanged
 * workflow is one manifest HEAD) and returns the IR bound to it: pods run it by digest,
 * and the digest is part of every task's cache key.
 */
export async function bindImage(input: {
  ir: WorkflowIR;
  notebookPath: string;
  notebookText: string;
  home: string;
  /** Where the image goes (--push, --base, --insecure); the environment fills what it leaves out. */
  flags: KubernetesSettings;
  env?: NodeJS.ProcessEnv;
  onEvent?: (e: BuildEvent) => void;
}): Promise<WorkflowIR> {
  const env = input.env ?? process.env;
  const push = input.flags.push ?? env.CELLGRAPH_IMAGE_REPO;
  if (!push) throw new ValidationError('the kubernetes executor runs tasks from an image: give --push <registry/repository> or set CELLGRAPH_IMAGE_REPO', 'push');
  const result = await buildImage({
    ir: input.ir,
    notebookPath: input.notebookPath,
    notebookText: input.notebookText,
    push,
    base: input.flags.base ?? env.CELLGRAPH_BASE_IMAGE ?? DEFAULT_BASE_IMAGE,
    insecure: input.flags.insecure,
    // Layers are cached on this machine whatever the run's artifact store is.
    store: new FilesystemStore(input.home),
    onEvent: input.onEvent
  });
  return { ...input.ir, image: { reference: result.reference, digest: result.digest } };
}
