/**
 * Everything the Kubernetes end-to-end tests and benchmarks run against, started on
 * 127.0.0.1 and stopped by PID: a real kube-apiserver + etcd, the test node agent (the
 * kubelet's part: bind, pull with skopeo, unpack with umoci, run under chroot, report
 * status), a real OCI registry with a Node base image, and a real S3-compatible server
 * (moto) for artifacts. Never shipped to users.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { StoreConfig } from '@cellgraph/schema';
import { KubeApiServer, startKubeApiServer } from './kube-apiserver';
import { TestNode, startTestNode } from './test-node';
import { TestRegistry, pushMachineBaseImage, startRegistry } from './registry';
import { TestS3Server, startS3Server } from './s3-server';

export interface TestCluster {
  kube: KubeApiServer;
  agent: TestNode;
  registry: TestRegistry;
  s3: TestS3Server;
  /** The Node base image pushed to the registry (`host/base/node:<this node's major>`). */
  baseImage: string;
  namespace: string;
  bucket: string;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  /** A KubernetesTarget JSON file (namespace, the S3 credentials as pod env, podGC). */
  targetFile: string;
  /** The artifact store pods and the CLI share, under `prefix`. */
  storeConfig(prefix: string): StoreConfig;
  /** Environment for the `cellgraph` CLI: S3 store, image repository, base image. */
  cliEnv(prefix: string, repository: string): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts the cluster; `target` fields are merged into the target file (e.g. systemRetries). */
export async function startTestCluster(options: { namespace?: string; target?: Record<string, unknown> } = {}): Promise<TestCluster> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const starting = [startKubeApiServer(), startRegistry(), startS3Server()] as const;
    // Every start settles before one failure is thrown: those that came up are stopped then
    // (with Promise.all alone, etcd and kube-apiserver outlived a missing moto, and jest hung).
    for (const r of await Promise.allSettled(starting)) if (r.status === 'fulfilled') started.push(r.value);
    const [kube, registry, s3] = await Promise.all(starting);
    const baseImage = await pushMachineBaseImage(registry.host);
    const bucket = 'cellgraph-e2e';
    await s3.createBucket(bucket);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const namespace = options.namespace ?? 'cellgraph-e2e';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const agent = await startTestNode({ kubeconfigPath: kube.kubeconfigPath, namespace });
    started.push(agent);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cluster-'));
    started.push({ stop: async () => fs.rmSync(dir, { recursive: true, force: true }) });
    const targetFile = path.join(dir, 'target.json');
    // Moto accepts any credentials; passing them as plain env keeps the test short. Real
    // clusters use `secretEnv` (a Secret reference), which the node agent resolves too.
    fs.writeFileSync(targetFile, JSON.stringify({ namespace, env: { ...s3.env }, ...options.target }, null, 2));
    return {
      kube,
      agent,
      registry,
      s3,
      baseImage,
      namespace,
      bucket,
      kc,
      core,
      targetFile,
      storeConfig: (prefix) => ({ kind: 's3', bucket, prefix, endpoint: s3.endpoint, region: s3.env.AWS_REGION, forcePathStyle: true }),
      cliEnv: (prefix, repository) => ({
        ...s3.env,
        CELLGRAPH_STORE: `s3://${bucket}/${prefix}`,
        CELLGRAPH_S3_ENDPOINT: s3.endpoint,
        CELLGRAPH_IMAGE_REPO: `${registry.host}/${repository}`,
        CELLGRAPH_BASE_IMAGE: baseImage,
        KUBECONFIG: kube.kubeconfigPath,
        CELLGRAPH_KUBE_TARGET: targetFile
      }),
      stop: stopAll
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
