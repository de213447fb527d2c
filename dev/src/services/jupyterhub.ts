/**
 * A real JupyterHub for tests: JupyterHub from PyPI (in .venv, scripts/requirements-hub.txt)
 * with its proxy, configurable-http-proxy, from npm (dev/package.json), a local spawner
 * (SimpleLocalProcessSpawner: single-user servers as this OS user, root included, each user
 * in a home directory of their own) and SharedPasswordAuthenticator with a fixed list of
 * users and groups. Everything listens on 127.0.0.1 and free ports, lives in a temporary
 * directory and is stopped by PID.
 *
 * The Hub knows a service `cellgraph` (the production cellgraph server's name at the Hub)
 * with a token that reads users and groups, and gives users' tokens and their single-user
 * servers' tokens access to it (`access:services!service=cellgraph`), as a deployment would.
 * A second service, `test-admin`, lets tests create and revoke users' tokens.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './registry';

const REPO = path.resolve(__dirname, '..', '..', '..');
const VENV_BIN = path.join(REPO, '.venv', 'bin');

/** What the Hub is started with. */
export interface JupyterHubOptions {
  /** User names allowed to sign in (all with {@link TestJupyterHub.password}). */
  users: string[];
  /** Hub groups and their members, e.g. `{"ml-editors": ["alice"]}`. */
  groups?: Record<string, string[]>;
  /** The cellgraph service's name at the Hub (default `cellgraph`). */
  serviceName?: string;
  /** Environment of each single-user server (e.g. CELLGRAPH_PRODUCTION_URL); `{username}` is expanded. */
  spawnerEnvironment?: Record<string, string>;
  /** Extra arguments of each single-user server (e.g. `--config=<file>`). */
  spawnerArgs?: string[];
  /** Where users' home directories go (default: under the Hub's temporary directory). */
  homesDir?: string;
}

/** A running Hub. */
export interface TestJupyterHub {
  /** `http://127.0.0.1:PORT/`: the proxy, what a browser opens (`hub/login`, `user/<name>/lab`). */
  url: string;
  /** `http://127.0.0.1:PORT/hub/api`: the Hub's REST API, as JUPYTERHUB_API_URL names it. */
  apiUrl: string;
  /** The shared password every user signs in with. */
  password: string;
  /** The cellgraph service's name and its Hub token (what the production server is given). */
  service: { name: string; token: string };
  /** A token with `admin:users` and `tokens`: for tests that make and revoke users' tokens. */
  adminToken: string;
  /** A user's home directory (their single-user server's root). */
  homeOf(user: string): string;
  /** Hub PID (the proxy is its child, stopped with it). */
  pid: number;
  /** The Hub's log so far. */
  log(): string;
  /** A new API token of `user`, with these scopes (default: the user's own, `inherit`). */
  createToken(user: string, options?: { scopes?: string[]; expiresInSeconds?: number; note?: string }): Promise<{ id: string; token: string }>;
  /** Revokes one of `user`'s tokens. */
  revokeToken(user: string, id: string): Promise<void>;
  stop(): Promise<void>;
}

/** Fails with the set-up hint when JupyterHub or its proxy is missing. */
function binaries(): { hub: string; proxy: string } {
  const hub = path.join(VENV_BIN, 'jupyterhub');
  if (!fs.existsSync(hub)) throw new Error(`${hub} is missing: run "bash scripts/setup.sh" (it installs scripts/requirements-hub.txt into .venv)`);
  let proxy: string;
  try {
    proxy = require.resolve('configurable-http-proxy/bin/configurable-http-proxy');
  } catch {
    throw new Error('configurable-http-proxy is missing from node_modules: run "bash scripts/setup.sh" (npm ci installs it, dev/package.json)');
  }
  return { hub, proxy };
}

/** Starts the Hub and waits until its API answers through the proxy. */
export async function startJupyterHub(options: JupyterHubOptions): Promise<TestJupyterHub> {
  const bin = binaries();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-hub-'));
  const homes = options.homesDir ?? path.join(dir, 'homes');
  fs.mkdirSync(homes, { recursive: true });
  const [port, hubPort, proxyApiPort] = [await freePort(), await freePort(), await freePort()];
  const secret = () => randomBytes(24).toString('hex');
  const password = secret();
  const serviceName = options.serviceName ?? 'cellgraph';
  const service = { name: serviceName, token: secret() };
  const adminToken = secret();
  const access = `access:services!service=${serviceName}`;
  // Read by jupyterhub_config.py below: JSON, so no value is ever pasted into Python source.
  const settings = {
    port,
    hubPort,
    proxyApiPort,
    proxyCommand: [process.execPath, bin.proxy],
    dbUrl: `sqlite:///${path.join(dir, 'jupyterhub.sqlite')}`,
    cookieSecretFile: path.join(dir, 'cookie_secret'),
    password,
    users: options.users,
    groups: Object.fromEntries(Object.entries(options.groups ?? {}).map(([g, users]) => [g, { users }])),
    services: [
      { name: serviceName, api_token: service.token },
      { name: 'test-admin', api_token: adminToken }
    ],
    roles: [
      { name: 'cellgraph-service', scopes: ['read:users', 'read:groups'], services: [serviceName] },
      { name: 'test-admin', scopes: ['admin:users', 'tokens', 'read:users'], services: ['test-admin'] },
      // Users, their own tokens and their single-user servers' tokens may reach the cellgraph service.
      { name: 'user', scopes: ['self', access] },
      { name: 'server', scopes: ['users:activity!user', 'access:servers!server', access] }
    ],
    singleuser: path.join(VENV_BIN, 'jupyterhub-singleuser'),
    spawnerArgs: ['--allow-root', ...(options.spawnerArgs ?? [])],
    environment: options.spawnerEnvironment ?? {},
    homeTemplate: path.join(homes, '{username}')
  };
  fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'jupyterhub_config.py'), HUB_CONFIG);
  // Node 24 first on PATH: the single-user servers start the cellgraph server and tslab with it.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${VENV_BIN}:${process.env.PATH ?? ''}`, CELLGRAPH_TEST_HUB_SETTINGS: path.join(dir, 'settings.json') };
  const child: ChildProcess = spawn(bin.hub, ['-f', path.join(dir, 'jupyterhub_config.py')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}/`;
  const apiUrl = `${url}hub/api`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${apiUrl}/`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`JupyterHub did not start on ${url}:\n${log.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const admin = (pathname: string, init: RequestInit = {}) =>
    fetch(`${apiUrl}${pathname}`, { ...init, headers: { authorization: `token ${adminToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  return {
    url,
    apiUrl,
    password,
    service,
    adminToken,
    pid: child.pid as number,
    homeOf: (user) => settings.homeTemplate.replace('{username}', user),
    log: () => log,
    async createToken(user, opts = {}) {
      const body = { scopes: opts.scopes ?? ['inherit'], note: opts.note ?? 'cellgraph test', ...(opts.expiresInSeconds !== undefined ? { expires_in: opts.expiresInSeconds } : {}) };
      const res = await admin(`/users/${encodeURIComponent(user)}/tokens`, { method: 'POST', body: JSON.stringify(body) });
      if (res.status !== 201 && res.status !== 200) throw new Error(`creating a token of ${user}: HTTP ${res.status} ${await res.text()}`);
      const { id, token } = (await res.json()) as { id: string; token: string };
      return { id, token };
    },
    async revokeToken(user, id) {
      const res = await admin(`/users/${encodeURIComponent(user)}/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
      if (res.status !== 204) throw new Error(`revoking token ${id} of ${user}: HTTP ${res.status} ${await res.text()}`);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        // SIGTERM: the Hub stops the single-user servers it spawned and its proxy, then exits.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** The Hub's configuration file: every value comes from the settings JSON the service wrote. */
const HUB_CONFIG = `# Written by dev/src/services/jupyterhub.ts for one test run.
import json, os

s = json.load(open(os.environ["CELLGRAPH_TEST_HUB_SETTINGS"]))
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = s["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hubPort"]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d" % s["proxyApiPort"]
c.ConfigurableHTTPProxy.command = s["proxyCommand"]
c.JupyterHub.db_url = s["dbUrl"]
c.JupyterHub.cookie_secret_file = s["cookieSecretFile"]
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = s["password"]
c.Authenticator.allowed_users = set(s["users"])
c.JupyterHub.load_groups = s["groups"]
c.JupyterHub.services = s["services"]
c.JupyterHub.load_roles = s["roles"]
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = s["homeTemplate"]
c.Spawner.cmd = [s["singleuser"]]
c.Spawner.args = s["spawnerArgs"]
c.Spawner.environment = s["environment"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
`;
