import * as path from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { parseOrThrow } from '../zod-issue';
import { HOME_DIR_NAME, type KubernetesSettings } from '../runtime';
import { databaseUrlFromEnv } from '../state/open-state-store';

/** Flags of `cellgraph server`, as commander hands them over (strings, all optional). */
export interface ServerFlags extends KubernetesSettings {
  host?: string;
  port?: string;
  home?: string;
  workdir?: string;
  concurrency?: string;
  maxBodyBytes?: string;
  graceSeconds?: string;
  webhookAttempts?: string;
  webhookTimeoutSeconds?: string;
  executor?: string;
  compileWorkers?: string;
  compileTimeoutSeconds?: string;
  compileMemoryMb?: string;
  allowWebhookHost?: string[];
}

const Port = z.coerce.number({ invalid_type_error: 'must be a number' }).int('must be an integer').min(0).max(65535);

/**
 * The server's configuration, validated once at boot. Flags win over the environment;
 * anything invalid stops the server before it binds a port, naming the setting.
 */
export const ServerConfig = z.object({
  host: z.string().min(1).max(255),
  port: Port,
  home: z.string().min(1),
  /** Where uploaded notebooks run (packages resolve from here, as for a notebook in it). */
  workDir: z.string().min(1),
  /** The bearer token; undefined means one is generated at boot and printed. */
  token: z.string().min(16, 'must be at least 16 characters').max(4096).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
  concurrency: z.coerce.number().int().min(1).max(1024).optional(),
  maxBodyBytes: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024),
  /** How long SIGTERM waits for runs in flight before cancelling them. */
  graceSeconds: z.coerce.number().min(0).max(3600),
  /** Attempts per webhook delivery, the first included (default 4). */
  webhookAttempts: z.coerce.number().int().min(1).max(20).optional(),
  /** How long one webhook attempt may take before it counts as failed (default 10). */
  webhookTimeoutSeconds: z.coerce.number().min(0.1).max(300).optional(),
  /** Where tasks run: child processes of the server, or one pod per attempt. */
  executor: z.enum(['local', 'kubernetes']),
  /** Worker threads compiling notebooks at once (default cores - 1, at least 1, at most 2). */
  compileWorkers: z.coerce.number().int().min(1).max(64).optional(),
  /** How long one compile may take before its worker is stopped (default 60). */
  compileTimeoutSeconds: z.coerce.number().min(0.1).max(3600).optional(),
  /** Heap limit of a compile worker, MB (default 1024). */
  compileMemoryMb: z.coerce.number().int().min(64).max(65536).optional(),
  /** Webhook hosts or CIDR ranges allowed although they are link-local or metadata addresses. */
  webhookAllow: z.array(z.string().min(1)).optional(),
  /** PostgreSQL state shared by replicas; undefined means SQLite in the home. */
  databaseUrl: z.string().optional(),
  /**
   * A process whose end stops this server (drained as on SIGTERM): the Jupyter server that
   * started it through jupyter-server-proxy, so the development server never outlives
   * JupyterLab, however JupyterLab ends (as a kernel polls its parent).
   */
  exitWithPid: z.coerce.number().int().min(1).optional()
});
export type ServerConfig = z.infer<typeof ServerConfig>;

/** Where each setting came from, so an error names what the user actually typed. */
const SOURCES: Record<keyof ServerConfig, string> = {
  host: '--host / CELLGRAPH_HOST',
  port: '--port / CELLGRAPH_PORT',
  home: '--home / CELLGRAPH_HOME',
  workDir: '--workdir / CELLGRAPH_WORKDIR',
  token: 'CELLGRAPH_TOKEN',
  concurrency: '--concurrency',
  maxBodyBytes: '--max-body-bytes',
  graceSeconds: '--grace-seconds',
  webhookAttempts: '--webhook-attempts',
  webhookTimeoutSeconds: '--webhook-timeout-seconds',
  executor: '--executor / CELLGRAPH_EXECUTOR',
  compileWorkers: '--compile-workers / CELLGRAPH_COMPILE_WORKERS',
  compileTimeoutSeconds: '--compile-timeout-seconds / CELLGRAPH_COMPILE_TIMEOUT_SECONDS',
  compileMemoryMb: '--compile-memory-mb / CELLGRAPH_COMPILE_MEMORY_MB',
  webhookAllow: '--allow-webhook-host / CELLGRAPH_WEBHOOK_ALLOW',
  databaseUrl: 'CELLGRAPH_DATABASE_URL',
  exitWithPid: 'CELLGRAPH_EXIT_WITH_PID'
};

const DEFAULT_PORT = 8787;

/**
 * Reads flags and environment into a validated ServerConfig. Throws a ValidationError
 * naming the setting for a bad value, and refuses to listen beyond loopback without a
 * token configured in advance (a generated one would be printed to whoever reads the log).
 */
export function loadServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv, cwd: string): ServerConfig {
  const blank = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const workDir = path.resolve(cwd, flags.workdir ?? blank(env.CELLGRAPH_WORKDIR) ?? '.');
  const raw = {
    host: flags.host ?? blank(env.CELLGRAPH_HOST) ?? '127.0.0.1',
    port: flags.port ?? blank(env.CELLGRAPH_PORT) ?? DEFAULT_PORT,
    home: path.resolve(cwd, flags.home ?? blank(env.CELLGRAPH_HOME) ?? path.join(workDir, HOME_DIR_NAME)),
    workDir,
    token: blank(env.CELLGRAPH_TOKEN),
    concurrency: flags.concurrency,
    maxBodyBytes: flags.maxBodyBytes ?? 32 * 1024 * 1024,
    graceSeconds: flags.graceSeconds ?? 30,
    webhookAttempts: flags.webhookAttempts,
    webhookTimeoutSeconds: flags.webhookTimeoutSeconds,
    executor: flags.executor ?? blank(env.CELLGRAPH_EXECUTOR) ?? 'local',
    compileWorkers: flags.compileWorkers ?? blank(env.CELLGRAPH_COMPILE_WORKERS),
    compileTimeoutSeconds: flags.compileTimeoutSeconds ?? blank(env.CELLGRAPH_COMPILE_TIMEOUT_SECONDS),
    compileMemoryMb: flags.compileMemoryMb ?? blank(env.CELLGRAPH_COMPILE_MEMORY_MB),
    webhookAllow: [...(flags.allowWebhookHost ?? []), ...(blank(env.CELLGRAPH_WEBHOOK_ALLOW)?.split(',') ?? [])].map((h) => h.trim()).filter((h) => h !== ''),
    databaseUrl: databaseUrlFromEnv(env),
    exitWithPid: blank(env.CELLGRAPH_EXIT_WITH_PID)
  };
  const key = (path: string[]) => path[0] as keyof ServerConfig;
  const config = parseOrThrow(ServerConfig, raw, {
    context: 'invalid server configuration',
    field: key,
    label: (path) => SOURCES[key(path)] ?? key(path),
    // The token and the database URL (it may hold a password) are never echoed.
    suffix: (path) => (key(path) === 'token' || key(path) === 'databaseUrl' ? '' : ` (got ${JSON.stringify(raw[key(path)])})`)
  });
  if (!isLoopback(config.host) && config.token === undefined) {
    throw new ValidationError(
      `refusing to listen on ${config.host} without a token: set CELLGRAPH_TOKEN (at least 16 characters) or use a loopback host such as 127.0.0.1`,
      'host'
    );
  }
  return config;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}
