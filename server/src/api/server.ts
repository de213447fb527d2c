import type { FastifyInstance } from 'fastify';
import { Engine } from '../engine/engine';
import { LocalExecutor } from '../executors/local/local-executor';
import { RunNotifier } from '../notify';
import { Scheduler } from '../scheduler';
import { scheduleRepository } from '../state/schedule-store';
import { openStateStore } from '../state/open-state-store';
import type { StoreConfig, WorkflowIR } from '@cellgraph/schema';
import type { Executor } from '../executors/executor';
import type { BuildEvent } from '../images';
import type { KubernetesFlags } from '../cli/kubernetes-options';
import { storeConfigFor } from '../cli/home-session';
import { ArtifactStore, openStore } from '../stores';
import { buildApp } from './app';
import { generateToken } from './auth';
import type { ServerConfig } from './config';
import type { ApiContext } from './context';
import { IrCache } from './ir-cache';
import { replicaId } from './run-leases';
import { LaunchRequest, RunService } from './run-service';
import { ScheduleService } from './schedule-service';
import { ScheduledRuns } from './scheduled-runs';
import { schedulerLog } from './scheduler-log';
import { SseStreams } from './sse';
import { WorkflowService } from './workflow-service';

/** On shutdown, how long webhook deliveries in progress may finish; the rest are sent by the next process. */
const NOTIFY_GRACE_MS = 10_000;

/** How often replicas sharing a database re-read schedules changed through another replica. */
const SCHEDULE_REFRESH_MS = 5_000;

/** Task attempts in flight at once on Kubernetes, unless --concurrency says otherwise. */
const KUBERNETES_DEFAULT_CONCURRENCY = 32;

/**
 * The executor the configuration asks for. Kubernetes is loaded only then (its client is
 * heavy), and comes with the step that builds and binds a workflow's image before a run.
 */
async function openExecutor(
  config: ServerConfig,
  options: { taskEntry?: string; kubernetes?: KubernetesFlags; env?: NodeJS.ProcessEnv },
  store: ArtifactStore,
  storeConfig: StoreConfig,
  env: NodeJS.ProcessEnv
): Promise<{ executor: Executor; prepare?: (req: LaunchRequest) => Promise<WorkflowIR>; stopExecutor: () => void }> {
  if (config.executor === 'local') return { executor: new LocalExecutor({ store, taskEntry: options.taskEntry }), stopExecutor: () => undefined };
  const { bindImage, openKubernetesExecutor } = await import('../cli/kubernetes-session');
  const flags = options.kubernetes ?? {};
  const executor = await openKubernetesExecutor(flags, store, storeConfig, env);
  const prepare = (req: LaunchRequest) =>
    bindImage({ ir: req.ir, notebookPath: req.notebookPath, notebookText: req.notebookText, home: config.home, flags, env, onEvent: imageProgress });
  return { executor, prepare, stopExecutor: () => executor.stop() };
}

/** Image build progress in the server's log: one line per layer built and blob pushed. */
function imageProgress(e: BuildEvent): void {
  if (e.kind === 'layer' && !e.cached) process.stderr.write(`image: built layer ${e.name} (${e.digest.slice(0, 19)})\n`);
  else if (e.kind === 'blob' && e.status !== 'uploading') process.stderr.write(`image: ${e.name} ${e.status}\n`);
  else if (e.kind === 'manifest') process.stderr.write(`image: pushed ${e.reference}\n`);
}

/** A started server. */
export interface RunningServer {
  /** `http://host:port`, with the port actually bound (for `--port 0`). */
  url: string;
  token: string;
  /** True when the token was generated at boot (and should be shown to the operator once). */
  tokenGenerated: boolean;
  /** Runs resumed from a previous process, and how long resuming took. */
  recovered: { runIds: string[]; ms: number };
  /** Webhook deliveries a previous process left pending, sent again. */
  resumedDeliveries: number;
  app: FastifyInstance;
  context: ApiContext;
  /**
   * Graceful shutdown: stop the scheduler, refuse new runs, wait up to the grace period
   * for runs in flight, cancel the rest, give webhook deliveries a moment, close the
   * listener and event streams, then the database.
   */
  shutdown(): Promise<{ finished: number; cancelled: number }>;
}

/**
 * Opens the home (artifact store + state: SQLite in the home, or PostgreSQL when
 * CELLGRAPH_DATABASE_URL names one), resumes unfinished runs, starts the
 * scheduler, and listens. Resuming happens before listening so no client sees a run as
 * `running` that nothing runs; the scheduler starts after it, so its missed-run policy
 * (and its Forbid checks) see the resumed runs as active.
 */
export async function startServer(
  config: ServerConfig,
  options: { version: string; taskEntry?: string; kubernetes?: KubernetesFlags; env?: NodeJS.ProcessEnv }
): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const storeConfig = storeConfigFor(config.home, env);
  const store = openStore(storeConfig);
  const { executor, prepare, stopExecutor } = await openExecutor(config, options, store, storeConfig, env);
  const state = await openStateStore({ home: config.home, databaseUrl: config.databaseUrl });
  const owner = replicaId(env);
  const engine = new Engine({
    store,
    storeConfig,
    state,
    executor,
    concurrency: config.concurrency ?? (config.executor === 'kubernetes' ? KUBERNETES_DEFAULT_CONCURRENCY : undefined),
    taskEntry: options.taskEntry
  });
  const irs = new IrCache(store);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const runs = new RunService(engine, store, state, irs, prepare, { owner, log });
  const workflows = new WorkflowService(store, state, irs, runs, config.workDir);
  const notifier = new RunNotifier({
    store: state,
    attempts: config.webhookAttempts,
    timeoutMs: config.webhookTimeoutSeconds !== undefined ? config.webhookTimeoutSeconds * 1000 : undefined,
    userAgent: `cellgraph/${options.version}`,
    log
  });
  // Subscribed before runs resume: a resumed run that finishes still notifies.
  engine.onEvent(notifier.listener);
  const scheduler = new Scheduler({
    repository: scheduleRepository(state, { coordination: state.coordination, owner }),
    runs: new ScheduledRuns(state, workflows, runs),
    // Replicas on one database see each other's schedule changes within this.
    refreshMs: state.coordination.shared ? SCHEDULE_REFRESH_MS : undefined,
    ...schedulerLog(log)
  });
  const schedules = new ScheduleService(scheduler, state, irs);
  const context: ApiContext = {
    config,
    version: options.version,
    store,
    storeConfig,
    state,
    engine,
    runs,
    workflows,
    schedules,
    notifier,
    streams: new SseStreams()
  };
  const token = config.token ?? generateToken();
  const app = buildApp(context, token);
  const t0 = Date.now();
  let runIds: string[];
  let resumedDeliveries: number;
  try {
    runIds = await runs.recover();
    resumedDeliveries = await notifier.resumePending();
    await scheduler.start();
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await scheduler.stop();
    await runs.drain(0);
    await notifier.stop(0);
    stopExecutor();
    await state.close();
    throw err;
  }
  const recovered = { runIds, ms: Date.now() - t0 };
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<{ finished: number; cancelled: number }> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      await scheduler.stop();
      const drained = await runs.drain(config.graceSeconds * 1000);
      await notifier.stop(Math.min(config.graceSeconds * 1000, NOTIFY_GRACE_MS));
      await app.close();
      stopExecutor();
      await state.close();
      return drained;
    })());
  return { url: `http://${host}:${port}`, token, tokenGenerated: config.token === undefined, recovered, resumedDeliveries, app, context, shutdown };
}
