/**
 * A private PostgreSQL cluster for tests and benchmarks: Debian's PostgreSQL (initdb and
 * pg_ctl from the versioned server bin directory, which Debian keeps off PATH) in a
 * temporary directory, on 127.0.0.1 and a free port, stopped by PID.
 *
 * Under jest one cluster serves the whole run: the global setup only names a directory;
 * the first test file that asks starts the cluster there (a lock directory keeps workers
 * from starting two), later files reuse it, each test file in a database of its own,
 * and the global teardown stops it.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort } from './registry';

/** A running cluster. */
export interface PostgresCluster {
  port: number;
  /** The postmaster's PID (stop signals it). */
  pid: number;
  /** `postgres://postgres@127.0.0.1:PORT/<database>` */
  url(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** Environment variable naming the directory of a jest run's shared cluster. */
export const SHARED_DIR_ENV = 'CELLGRAPH_TEST_PG_DIR';

/** Where Debian installs the server binaries: the newest version there. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`no PostgreSQL server in ${root}: run "bash scripts/setup.sh" (it installs Debian's postgresql)`);
  return path.join(root, versions[0], 'bin');
}

/** initdb and the server refuse to run as root: as root, they run as the `postgres` system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function run(bin: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}), env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} ${args.join(' ')} exited ${code}: ${out.slice(-2000)}`))));
  });
}

/** Initializes a cluster in `dir` (created, owned by the server's user) and starts it. */
export async function startPostgresCluster(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-pg-'))): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  const user = serverUser();
  const data = path.join(dir, 'data');
  fs.mkdirSync(dir, { recursive: true });
  if (user !== undefined) fs.chownSync(dir, user.uid, user.gid);
  await run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], user);
  const port = await freePort();
  // No fsync: a test cluster trades durability for speed; the socket directory is private.
  const options = `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  await run(path.join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start'], user);
  const pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return clusterAt(dir, port, pid);
}

/** A handle on a cluster already running (started by another jest worker). */
function clusterAt(dir: string, port: number, pid: number): PostgresCluster {
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    pid,
    url,
    async createDatabase(name) {
      const client = new Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop: () => stopPostgres(dir, pid)
  };
}

/** Fast shutdown by PID (SIGINT: abort transactions, exit), then the directory goes. */
export async function stopPostgres(dir: string, pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (alive()) process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}

let shared: Promise<PostgresCluster> | undefined;

/**
 * The cluster shared by this jest run (started by whichever test file asks first), or,
 * outside jest's global setup, one for this process, stopped when it exits.
 */
export function sharedPostgres(): Promise<PostgresCluster> {
  shared ??= openShared();
  return shared;
}

/** A fresh database on the shared cluster, named after the caller (a test file) and made unique. */
export async function testDatabaseUrl(label: string): Promise<string> {
  const cluster = await sharedPostgres();
  const name = `${label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 40)}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  return cluster.createDatabase(name);
}

async function openShared(): Promise<PostgresCluster> {
  const dir = process.env[SHARED_DIR_ENV];
  if (dir === undefined || dir === '') {
    const cluster = await startPostgresCluster();
    process.once('exit', () => {
      try {
        process.kill(cluster.pid, 'SIGINT');
      } catch {
        // already gone
      }
    });
    return cluster;
  }
  const ready = path.join(dir, 'ready.json');
  const lock = path.join(dir, 'starting');
  const failed = path.join(dir, 'failed');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (fs.existsSync(ready)) {
      const { port, pid } = JSON.parse(fs.readFileSync(ready, 'utf8')) as { port: number; pid: number };
      return clusterAt(path.join(dir, 'cluster'), port, pid);
    }
    let mine = false;
    try {
      fs.mkdirSync(lock);
      mine = true;
    } catch {
      // another worker is starting it
    }
    if (fs.existsSync(failed)) throw new Error(`the shared PostgreSQL cluster did not start: ${fs.readFileSync(failed, 'utf8')}`);
    if (mine) {
      let cluster: PostgresCluster;
      try {
        // The server's user (postgres, when tests run as root) must reach the cluster directory.
        fs.chmodSync(dir, 0o755);
        cluster = await startPostgresCluster(path.join(dir, 'cluster'));
      } catch (err) {
        fs.writeFileSync(failed, (err as Error).message);
        throw err;
      }
      fs.writeFileSync(`${ready}.tmp`, JSON.stringify({ port: cluster.port, pid: cluster.pid }));
      fs.renameSync(`${ready}.tmp`, ready);
      return cluster;
    }
    if (Date.now() > deadline) throw new Error(`the shared PostgreSQL cluster in ${dir} did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** jest global setup: names the run's directory; nothing starts until a test asks. */
export function prepareSharedPostgres(): void {
  process.env[SHARED_DIR_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-pg-run-'));
}

/** jest global teardown: stops the run's cluster by PID if a test started one. */
export async function stopSharedPostgres(): Promise<void> {
  const dir = process.env[SHARED_DIR_ENV];
  if (dir === undefined || dir === '') return;
  const ready = path.join(dir, 'ready.json');
  if (fs.existsSync(ready)) {
    const { pid } = JSON.parse(fs.readFileSync(ready, 'utf8')) as { pid: number };
    await stopPostgres(path.join(dir, 'cluster'), pid);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
