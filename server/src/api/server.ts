import type { FastifyInstance } from 'fastify';
import type { BuildEvent } from '../images';
import { CompilePool } from '../compiler/pool/compile-pool';
import { RunNotifier, WebhookGuard } from '../notify';
import { type KubernetesSettings, openRuntime } from '../runtime';
import { Scheduler } from '../scheduler';
import { scheduleRepository } from '../state/schedule-store';
import { createAuth, groupRolesFromEnv, scheduledRunAudit, type Authenticator } from '../auth';
import { buildApp } from './app';
import { generateToken } from './auth';
import type { ServerConfig } from './config';
import type { ApiContext } from './context';
import { IrCache } from './ir-cache';
import { replicaId } from './run-leases';
import { RunService } from './run-service';
import { ScheduleService } from './schedule-service';
import { ScheduledRuns } from './scheduled-runs';
import { schedulerLog } from './scheduler-log';
import { SseStreams } from './sse';
import { WorkflowService } from './workflow-service';

/** On shutdown, how long webhook deliveries in progress may finish; the rest are sent by the next process. */
const NOTIFY_GRACE_MS = 10_000;

/** How often replicas sharing a database re-read schedules changed through another replica. */
const SCHEDULE_REFRESH_MS = 5_000;

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
 * Opens the runtime (artifact store, state store: SQLite in the home, or PostgreSQL when
 * CELLGRAPH_DATABASE_URL names one; executor: the runtime layer the CLI uses too), resumes
 * unfinished runs, starts the
 * scheduler, and listens. Resuming happens before listening so no client sees a run as
 * `running` that nothing runs; the scheduler starts after it, so its missed-run policy
 * (and its Forbid checks) see the resumed runs as active.
 */
export async function startServer(
  config: ServerConfig,
  options: {
    version: string;
    taskEntry?: string;
    kubernetes?: KubernetesSettings;
    env?: NodeJS.ProcessEnv;
    /** Authenticators tried after the server token and personal API tokens (JupyterHub's). */
    authenticators?: readonly Authenticator[];
  }
): Promise<RunningServer> {
  // Checked before anything opens: a bad mapping stops the server naming the setting.
  const groupRoles = groupRolesFromEnv(options.env ?? process.env);
  const runtime = await openRuntime({
    home: config.home,
    executor: config.executor,
    databaseUrl: config.databaseUrl,
    concurrency: config.concurrency,
    kubernetes: options.kubernetes,
    taskEntry: options.taskEntry,
    env: options.env,
    onImageEvent: imageProgress
  });
  const { store, storeConfig, state, engine } = runtime;
  const owner = replicaId(options.env ?? process.env);
  const irs = new IrCache(store);
  const compiles = new CompilePool({
    workers: config.compileWorkers,
    timeoutMs: config.compileTimeoutSeconds !== undefined ? config.compileTimeoutSeconds * 1000 : undefined,
    memoryMb: config.compileMemoryMb,
    settings: { time: '--compile-timeout-seconds', memory: '--compile-memory-mb' }
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const runs = new RunService(engine, store, state, irs, (req) => runtime.prepare(req), { owner, log });
  const workflows = new WorkflowService(store, state, irs, runs, config.workDir, compiles);
  const notifier = new RunNotifier({
    store: state,
    attempts: config.webhookAttempts,
    timeoutMs: config.webhookTimeoutSeconds !== undefined ? config.webhookTimeoutSeconds * 1000 : undefined,
    userAgent: `cellgraph/${options.version}`,
    log,
    guard: new WebhookGuard(config.webhookAllow)
  });
  // Subscribed before runs resume: a resumed run that finishes still notifies.
  engine.onEvent(notifier.listener);
  const token = config.token ?? generateToken();
  const auth = createAuth({
    identity: state.identity,
    lookup: { identity: state.identity, state },
    serverToken: token,
    groupRoles,
    extraAuthenticators: options.authenticators
  });
  const scheduler = new Scheduler({
    repository: scheduleRepository(state, { coordination: state.coordination, owner }),
    // Fires run as their project's service identity (`project:<name>`), recorded in the audit trail.
    runs: new ScheduledRuns(state, workflows, runs, (schedule, runId) => scheduledRunAudit(auth, state, schedule.id, runId)),
    // Replicas on one database see each other's schedule changes within this.
    refreshMs: state.coordination.shared ? SCHEDULE_REFRESH_MS : undefined,
    ...schedulerLog(log)
  });
  const schedules = new ScheduleService(scheduler, state, irs, notifier.guard);
  const context: ApiContext = {
    config,
    version: options.version,
    store,
    storeConfig,
    state,
    engine,
    compiles,
    runs,
    workflows,
    schedules,
    notifier,
    streams: new SseStreams(),
    auth
  };
  const app = buildApp(context);
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
    await compiles.close();
    await runtime.close();
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
      // Before the listener: a request waiting on a compile gets its 503 now, not after the compile.
      await compiles.close();
      await app.close();
      await runtime.close();
      return drained;
    })());
  return { url: `http://${host}:${port}`, token, tokenGenerated: config.token === undefined, recovered, resumedDeliveries, app, context, shutdown };
}
