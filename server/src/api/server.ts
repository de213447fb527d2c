import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Engine } from '../engine/engine';
import { LocalExecutor } from '../executors/local/local-executor';
import { SqliteStateStore } from '../state/sqlite-state-store';
import { FilesystemStore } from '../stores';
import { buildApp } from './app';
import { generateToken } from './auth';
import type { ServerConfig } from './config';
import type { ApiContext } from './context';
import { IrCache } from './ir-cache';
import { RunService } from './run-service';
import { SseStreams } from './sse';
import { WorkflowService } from './workflow-service';

/** A started server. */
export interface RunningServer {
  /** `http://host:port`, with the port actually bound (for `--port 0`). */
  url: string;
  token: string;
  /** True when the token was generated at boot (and should be shown to the operator once). */
  tokenGenerated: boolean;
  /** Runs resumed from a previous process, and how long resuming took. */
  recovered: { runIds: string[]; ms: number };
  app: FastifyInstance;
  context: ApiContext;
  /**
   * Graceful shutdown: refuse new runs, wait up to the grace period for runs in flight,
   * cancel the rest, close the listener and event streams, then the database.
   */
  shutdown(): Promise<{ finished: number; cancelled: number }>;
}

/**
 * Opens the home (artifact store + SQLite state), resumes unfinished runs, and listens.
 * Resuming happens before listening so no client sees a run as `running` that nothing runs.
 */
export async function startServer(config: ServerConfig, options: { version: string; taskEntry?: string }): Promise<RunningServer> {
  const store = new FilesystemStore(config.home);
  const storeConfig = { kind: 'filesystem' as const, root: store.root };
  const state = SqliteStateStore.open(path.join(config.home, 'state.db'));
  const engine = new Engine({
    store,
    storeConfig,
    state,
    executor: new LocalExecutor({ store, taskEntry: options.taskEntry }),
    concurrency: config.concurrency,
    taskEntry: options.taskEntry
  });
  const irs = new IrCache(store);
  const runs = new RunService(engine, store, state, irs);
  const workflows = new WorkflowService(store, state, irs, runs, config.workDir);
  const context: ApiContext = { config, version: options.version, store, storeConfig, state, engine, runs, workflows, streams: new SseStreams() };
  const token = config.token ?? generateToken();
  const app = buildApp(context, token);
  const t0 = Date.now();
  let runIds: string[];
  try {
    runIds = await runs.recover();
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
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
      const drained = await runs.drain(config.graceSeconds * 1000);
      await app.close();
      await state.close();
      return drained;
    })());
  return { url: `http://${host}:${port}`, token, tokenGenerated: config.token === undefined, recovered, app, context, shutdown };
}
