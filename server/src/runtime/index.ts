import type { WorkflowIR } from '@cellgraph/schema';
import { Engine } from '../engine/engine';
import type { Executor } from '../executors/executor';
import { LocalExecutor } from '../executors/local/local-executor';
import type { BuildEvent } from '../images';
import { type HomeSession, openHome } from './home';
import type { KubernetesSettings } from './kubernetes-target';

export { HOME_DIR_NAME, type HomeSession, openHome, storeConfigFor } from './home';
export { type RuntimeStateStore, type StateStoreConfig, databaseUrlFromEnv, openStateStore, stateFile } from './state';
export { type KubernetesSettings, readKubernetesTarget } from './kubernetes-target';

/**
 * The runtime layer: what it takes to run workflows from a home, opened in one place for
 * the CLI (`cellgraph run`) and the server alike. Only this module decides which artifact
 * store, state store and executor a home gets, and how a workflow is readied for the
 * executor (its image built and bound on Kubernetes).
 */

/** Where tasks run: child processes of this process, or one pod per attempt. */
export type ExecutorKind = 'local' | 'kubernetes';

/** Task attempts in flight at once on Kubernetes, unless a concurrency is given: pods are cheap to have in flight, processes on this machine are not. */
export const KUBERNETES_DEFAULT_CONCURRENCY = 32;

/** What a runtime is opened with. */
export interface RuntimeOptions {
  /** The home directory: the filesystem artifact store (unless CELLGRAPH_STORE says S3) and the SQLite state. */
  home: string;
  executor: ExecutorKind;
  /** PostgreSQL state shared by replicas (`postgres://...`); default: CELLGRAPH_DATABASE_URL, else SQLite in the home. */
  databaseUrl?: string;
  /** Task attempts running at once across all runs (default: CPU count locally, {@link KUBERNETES_DEFAULT_CONCURRENCY} on Kubernetes). */
  concurrency?: number;
  /** Flags and files for the Kubernetes executor (the environment fills what they leave out). */
  kubernetes?: KubernetesSettings;
  /** Path of the task entry script (tests point at a build). */
  taskEntry?: string;
  env?: NodeJS.ProcessEnv;
  /** Image build progress (Kubernetes). */
  onImageEvent?: (e: BuildEvent) => void;
  /** Problems worth a line that fail nothing (watch reconnects); default: stderr. */
  onWarning?: (message: string) => void;
}

/** A workflow about to run: its IR and the notebook it was compiled from. */
export interface PrepareInput {
  ir: WorkflowIR;
  notebookPath: string;
  notebookText: string;
}

/** An opened runtime: the home's stores, the executor, and the engine over them. */
export interface Runtime extends HomeSession {
  executor: Executor;
  engine: Engine;
  /** Where tasks run, for a log line: `local processes`, `pods in namespace ml`. */
  where: string;
  /**
   * Readies a workflow for the executor: on Kubernetes, builds and pushes its image and
   * returns the IR bound to it (pods run it by digest); locally, the IR as it is.
   */
  prepare(input: PrepareInput): Promise<WorkflowIR>;
  /** Lets go of the executor (pods keep running; a later process re-attaches), then closes the state store. */
  close(): Promise<void>;
}

/** Opens a home's stores, its executor and an engine over them. Closes what it opened if a later step fails. */
export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const env = options.env ?? process.env;
  const home = await openHome(options.home, env, options.databaseUrl);
  try {
    const opened = await openExecutor(options, home, env);
    const engine = new Engine({
      store: home.store,
      storeConfig: home.storeConfig,
      state: home.state,
      executor: opened.executor,
      concurrency: options.concurrency ?? (options.executor === 'kubernetes' ? KUBERNETES_DEFAULT_CONCURRENCY : undefined),
      taskEntry: options.taskEntry
    });
    return {
      ...home,
      ...opened,
      engine,
      close: async () => {
        opened.stop();
        await home.close();
      }
    };
  } catch (err) {
    await home.close();
    throw err;
  }
}

interface OpenedExecutor {
  executor: Executor;
  where: string;
  prepare(input: PrepareInput): Promise<WorkflowIR>;
  stop(): void;
}

/** The executor the options ask for. Kubernetes is loaded only then: its client costs a local run ~0.3 s of start-up. */
async function openExecutor(options: RuntimeOptions, home: HomeSession, env: NodeJS.ProcessEnv): Promise<OpenedExecutor> {
  if (options.executor === 'local') {
    // CELLGRAPH_WARM_POOL=0 starts every attempt in a fresh process, as before the pool (docs/warm-pool.md).
    const executor = new LocalExecutor({ store: home.store, taskEntry: options.taskEntry, warmPool: env.CELLGRAPH_WARM_POOL !== '0' });
    return { executor, where: 'local processes', prepare: async (input) => input.ir, stop: () => executor.close() };
  }
  const { bindImage, openKubernetesExecutor } = await import('./kubernetes');
  const settings = options.kubernetes ?? {};
  const executor = await openKubernetesExecutor(settings, home.store, home.storeConfig, env, options.onWarning);
  return {
    executor,
    where: `pods in namespace ${executor.options.target.namespace}`,
    prepare: (input) => bindImage({ ...input, home: home.home, flags: settings, env, onEvent: options.onImageEvent }),
    stop: () => executor.stop()
  };
}
