import type { Command } from 'commander';
import { loadServerConfig, type ServerFlags } from '../../api/config';
import { startServer } from '../../api/server';
import { HubAuthenticator } from '../../auth/jupyterhub/hub-authenticator';
import { hubSettingsFromEnv } from '../../auth/jupyterhub/settings';
import { kubernetesOptions } from '../kubernetes-options';
import { err, out } from '../output';
import { watchProcess } from '../parent-watch';

/**
 * `cellgraph server`: the companion server. Prints its URL (and a generated token) on
 * stdout, one `key: value` per line, so scripts and tests can read them; diagnostics go
 * to stderr. SIGTERM/SIGINT drain: no new runs, runs in flight get the grace period,
 * then are cancelled; the database is closed last.
 */
export function registerServer(program: Command): void {
  const command = program
    .command('server')
    .description('start the HTTP API server: durable runs, live events and logs, versions and promotion, cron schedules, webhooks')
    .option('--host <host>', 'address to listen on (env CELLGRAPH_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port; 0 picks a free one (env CELLGRAPH_PORT; default 8787)')
    .option('--home <dir>', 'artifact store and state directory (env CELLGRAPH_HOME; default <workdir>/.cellgraph)')
    .option('--workdir <dir>', 'where uploaded notebooks run and relative notebook paths resolve (env CELLGRAPH_WORKDIR; default .)')
    .option('--concurrency <n>', 'task attempts running at once across all runs (default: CPU count)')
    .option('--max-body-bytes <n>', 'largest request body accepted (default 32 MiB)')
    .option('--grace-seconds <s>', 'on SIGTERM, how long runs in flight may finish before they are cancelled (default 30)')
    .option('--webhook-attempts <n>', 'attempts per webhook delivery, with exponential backoff between them (default 4)')
    .option('--webhook-timeout-seconds <s>', 'how long one webhook attempt may take (default 10)')
    .option('--executor <name>', 'where tasks run: local or kubernetes (env CELLGRAPH_EXECUTOR; default local)')
    .option('--compile-workers <n>', 'worker threads compiling notebooks at once (env CELLGRAPH_COMPILE_WORKERS; default cores - 1, at least 1, at most 2)')
    .option('--compile-timeout-seconds <s>', 'time limit of one compile; past it the compile is a 422 compile-limit (env CELLGRAPH_COMPILE_TIMEOUT_SECONDS; default 60)')
    .option('--compile-memory-mb <mb>', 'heap limit of a compile worker (env CELLGRAPH_COMPILE_MEMORY_MB; default 1024)')
    .option(
      '--allow-webhook-host <host>',
      'a webhook host or CIDR range allowed although link-local or a cloud metadata address; repeatable (env CELLGRAPH_WEBHOOK_ALLOW, comma-separated)',
      (v: string, all: string[] = []) => [...all, v]
    );
  kubernetesOptions(command).action(async (flags: ServerFlags) => {
    const config = loadServerConfig(flags, process.env, process.cwd());
    // The signal handlers come first: a supervisor (or a test) may send SIGTERM the moment it
    // reads `listening:`, while this process still runs the code after printing it; without
    // a handler Node's default action killed the server undrained (seen as exit by SIGTERM).
    // A signal during start-up drains as soon as the server is up.
    const stopSignal = new StopSignal();
    process.on('SIGTERM', () => stopSignal.raise('SIGTERM'));
    process.on('SIGINT', () => stopSignal.raise('SIGINT'));
    const version = require('../../../package.json').version as string;
    const kubernetes = { kubeconfig: flags.kubeconfig, namespace: flags.namespace, kubeTarget: flags.kubeTarget, push: flags.push, base: flags.base, insecure: flags.insecure };
    // Inside JupyterHub (JUPYTERHUB_API_URL set), users' Hub tokens sign in too.
    const hub = hubSettingsFromEnv(process.env);
    const server = await startServer(config, { version, kubernetes, authenticators: hub ? [new HubAuthenticator(hub)] : [] });
    out(`listening: ${server.url}`);
    if (server.tokenGenerated) out(`token: ${server.token}`);
    err(`cellgraph server ${version}: ${server.url} (home ${config.home}, workdir ${config.workDir}, executor ${config.executor})`);
    // Never the URL: it may carry a password.
    if (config.databaseUrl !== undefined) err(`state: PostgreSQL (CELLGRAPH_DATABASE_URL), replica ${server.context.runs.leases.owner}`);
    if (hub !== undefined) err(`sign-in: JupyterHub users through ${hub.apiUrl} (service ${hub.serviceName}; answers cached ${hub.cacheSeconds}s)`);
    if (server.tokenGenerated) err('no CELLGRAPH_TOKEN set: generated the token above; clients send it as `Authorization: Bearer <token>`');
    if (server.recovered.runIds.length > 0) {
      err(`resumed ${server.recovered.runIds.length} unfinished run(s) in ${server.recovered.ms} ms: ${server.recovered.runIds.join(', ')}`);
    }
    if (server.resumedDeliveries > 0) err(`sending ${server.resumedDeliveries} webhook delivery(ies) left pending by the previous process`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        err(`${signal}: draining (no new runs; up to ${config.graceSeconds}s for runs in flight)…`);
        server.shutdown().then(
          (d) => {
            err(`stopped: ${d.finished} run(s) finished, ${d.cancelled} cancelled`);
            resolve();
          },
          (e: Error) => {
            err(`shutdown failed: ${e.stack ?? e.message}`);
            process.exitCode = 1;
            resolve();
          }
        );
      };
      stopSignal.onStop(stop);
      const parent = config.exitWithPid;
      if (parent !== undefined) watchProcess(parent, () => stopSignal.raise(`process ${parent} (CELLGRAPH_EXIT_WITH_PID) ended`));
    });
  });
}

/**
 * The first stop request (a signal, or the watched parent's end) starts the drain, once;
 * one that comes before the drain can start is kept until it can. A repeated request while
 * draining (a supervisor or a process group signalled twice) is logged and ignored: it must
 * not kill the process mid-drain, which has its own deadline.
 */
export class StopSignal {
  private why: string | undefined;
  private stop: ((why: string) => void) | undefined;

  raise(why: string): void {
    if (this.why !== undefined) {
      if (this.stop !== undefined) err(`${why} again: already draining`);
      return;
    }
    this.why = why;
    this.stop?.(why);
  }

  /** Starts `stop` now if a request came already, else at the first one. */
  onStop(stop: (why: string) => void): void {
    this.stop = stop;
    if (this.why !== undefined) stop(this.why);
  }
}
