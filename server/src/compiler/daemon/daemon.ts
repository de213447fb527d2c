/**
 * The CLI's compile daemon: a detached process that keeps the compiler warm between
 * `cellgraph` commands, as tsserver, eslint_d and the Gradle daemon do. A fresh CLI process
 * spends 1-2 s parsing and binding TypeScript's libraries and @types before it can check
 * one changed task; the daemon keeps them parsed (typescript-host.ts) and the last programs
 * to build on (program-reuse.ts), and files each task's check in the user's cache folder as
 * the CLI does (check-cache.ts), so an edit costs only what it changed.
 *
 * It compiles on its own thread, one notebook at a time, exactly as the CLI would in its
 * own process (same function, same caches, no limits): unlike the server's pool there is
 * no event loop to keep free for others, and the user waits for this compile, so it is not
 * run at a lower priority as the pool's workers are.
 *
 * One daemon per build and user, at the socket {@link socketPath} names. It exits after
 * an idle time, when its socket file is removed or replaced (another daemon took the path),
 * or when asked to stop (a newer build starting in the same folder).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskCheckCache } from '../check-cache';
import { compileNotebook } from '../index';
import { checkerOptions, virtualPath } from '../typescript-host';
import { type DaemonReply, DaemonRequest, type SnapshotInput, ask, daemonVersion, ensurePrivateDir, socketPath } from './protocol';

/** Minutes without a request after which the daemon exits (`CELLGRAPH_COMPILE_DAEMON_IDLE_SECONDS`). */
const DEFAULT_IDLE_SECONDS = 15 * 60;
/** How often the daemon looks at its socket file and its idle time. */
const WATCH_MS = 1000;
/**
 * Past this much live heap after a compile the daemon exits once idle (the next CLI starts a
 * fresh one): it keeps the parsed declarations of every project it compiled, and a daemon
 * used across many projects for a long time must not grow without bound.
 */
const MAX_HEAP_BYTES = 1536 * 1024 * 1024;
/** A request line longer than this is refused (a notebook of tens of MB is not a CLI's). */
const MAX_REQUEST_BYTES = 256 * 1024 * 1024;

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} compile daemon ${process.pid}: ${message}\n`);
}

/** Stops other builds' daemons in the folder and removes sockets nothing listens on. */
async function replaceOthers(dir: string, ours: string): Promise<void> {
  const others = fs.readdirSync(dir).filter((f) => /^compile-[0-9a-f]{16}\.sock$/.test(f) && path.join(dir, f) !== ours);
  await Promise.all(
    others.map(async (f) => {
      const reply = await ask(path.join(dir, f), { kind: 'stop' }, 2000);
      if (reply === 'unreachable') fs.rmSync(path.join(dir, f), { force: true });
      else if (typeof reply === 'object') log(`asked the daemon of another build at ${f} to stop`);
    })
  );
}

/** Listens at `socket`; a socket file left by a crashed daemon is removed, a live daemon's is left alone (returns false). */
async function listen(server: net.Server, socket: string): Promise<boolean> {
  const attempt = () =>
    new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen(socket, () => {
        server.off('error', resolve);
        resolve(undefined);
      });
    });
  const first = await attempt();
  if (first === undefined) return true;
  if (first.code !== 'EADDRINUSE') throw first;
  // A daemon busy compiling accepts but answers late ('lost' here): it is alive all the same.
  if ((await ask(socket, { kind: 'ping' }, 2000)) !== 'unreachable') return false;
  fs.rmSync(socket, { force: true });
  const second = await attempt();
  if (second === undefined) return true;
  if (second.code === 'EADDRINUSE') return false; // Another daemon won the race to the stale path.
  throw second;
}

/**
 * The snapshot is built once the daemon has been idle this long after a compile: not while
 * the user runs commands one after another, and not at all by a daemon that lives a few
 * seconds (a test's, whose folders are removed at once).
 */
const SNAPSHOT_AFTER_IDLE_MS = 10_000;
/** How much lower than the daemon the snapshot build runs (nice value): it must not slow the user's next command. */
const SNAPSHOT_NICENESS = 10;

/**
 * Builds this build's startup snapshot at `blob` in a background process, with the
 * declarations a notebook in `notebookDir` reads (the standard library, the folder's
 * `@types`, cellgraph's kernel library) (written to a
 * temporary file, then renamed: a reader never sees half a blob), and deletes the blobs
 * of other builds beside it. Failure only costs the next cold start its speed.
 */
function buildSnapshot(blob: string, notebookDir: string): void {
  const tmp = `${blob}.${process.pid}.tmp`;
  // As the last notebook compiled: its folder decides the @types and packages parsed (a project's own are most of them).
  const input: SnapshotInput = { typescript: require.resolve('typescript'), options: checkerOptions(notebookDir), root: virtualPath(notebookDir, 'snapshot') };
  try {
    fs.mkdirSync(path.dirname(blob), { recursive: true });
  } catch (e) {
    return log(`no startup snapshot: ${String(e)}`);
  }
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', path.join(__dirname, 'snapshot-builder.js')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CELLGRAPH_SNAPSHOT_INPUT: JSON.stringify(input) }
  });
  try {
    if (child.pid !== undefined) os.setPriority(child.pid, SNAPSHOT_NICENESS);
  } catch {
    // Not permitted here: it builds at normal priority.
  }
  child.on('error', (e) => log(`no startup snapshot: ${e.message}`));
  child.on('exit', (code) => {
    try {
      if (code !== 0) throw new Error(`the snapshot build exited ${code}`);
      fs.renameSync(tmp, blob);
      for (const f of fs.readdirSync(path.dirname(blob))) {
        if (/^daemon-[0-9a-f]{16}\.blob$/.test(f) && path.join(path.dirname(blob), f) !== blob) fs.rmSync(path.join(path.dirname(blob), f), { force: true });
      }
      log(`built the startup snapshot ${blob} in ${Date.now() - t0} ms`);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      log(`no startup snapshot: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  child.unref();
}

/**
 * Runs the daemon until it is idle, replaced or stopped. `startedFrom` says how its process
 * started (for the log); a daemon not started from a snapshot builds one once idle after a
 * compile, for the next cold start (`CELLGRAPH_DAEMON_SNAPSHOT` names the file, set by the CLI).
 */
export async function serveCompileDaemon(startedFrom = 'a plain start'): Promise<void> {
  const socket = socketPath();
  if (socket === undefined) throw new Error('the daemon folder path is too long for a unix socket');
  const dir = path.dirname(socket);
  ensurePrivateDir(dir);
  const idleMs = Number(process.env.CELLGRAPH_COMPILE_DAEMON_IDLE_SECONDS || DEFAULT_IDLE_SECONDS) * 1000;
  const version = daemonVersion();
  const checkCaches = new Map<string, DiskCheckCache>();
  let lastUse = Date.now();
  let busy = 0;
  let stopping = false;
  const blob = process.env.CELLGRAPH_DAEMON_SNAPSHOT;
  /** The folder of the last notebook compiled, once one was. */
  let compiledIn: string | undefined;
  let snapshotWanted = startedFrom === 'a plain start' && blob !== undefined && blob !== '' && !fs.existsSync(blob);

  const answer = async (request: DaemonRequest): Promise<DaemonReply> => {
    if (request.kind === 'ping') return { kind: 'pong', version, pid: process.pid };
    if (request.kind === 'stop') {
      stopping = true;
      return { kind: 'stopping' };
    }
    if (request.version !== version) return { kind: 'wrong-version', version };
    try {
      // Each CLI names its own cache folder (CELLGRAPH_CACHE_DIR may differ between them).
      let checkCache = checkCaches.get(request.checksDir);
      if (checkCache === undefined) checkCaches.set(request.checksDir, (checkCache = new DiskCheckCache(request.checksDir)));
      const result = compileNotebook(request.input, { checkCache });
      compiledIn = path.dirname(request.input.path);
      if (process.memoryUsage().heapUsed > MAX_HEAP_BYTES) stopping = true;

      return { kind: 'result', result };
    } catch (e) {
      return { kind: 'error', message: e instanceof Error ? e.message : String(e) };
    }
  };

  const server = net.createServer((conn) => {
    let buffer = '';
    conn.setEncoding('utf8');
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) return conn.destroy();
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      const line = buffer.slice(0, end);
      buffer = '';
      conn.pause();
      let request: DaemonRequest;
      try {
        request = DaemonRequest.parse(JSON.parse(line));
      } catch (e) {
        conn.end(`${JSON.stringify({ kind: 'error', message: `bad request: ${e instanceof Error ? e.message : String(e)}` })}\n`);
        return;
      }
      busy++;
      lastUse = Date.now();
      void answer(request).then((reply) => {
        busy--;
        lastUse = Date.now();
        conn.end(`${JSON.stringify(reply)}\n`);
      });
    });
  });

  if (!(await listen(server, socket))) {
    log('another daemon of this build already listens; exiting');
    return;
  }
  const ours = fs.statSync(socket).ino;
  log(`listening at ${socket} (version ${version.slice(0, 16)}, idle timeout ${idleMs / 1000} s, started from ${startedFrom})`);
  await replaceOthers(dir, socket).catch((e: unknown) => log(`could not look for other daemons: ${String(e)}`));

  await new Promise<void>((resolve) => {
    const watch = setInterval(() => {
      let why: string | undefined;
      let ino: number | undefined;
      try {
        ino = fs.statSync(socket).ino;
      } catch {
        ino = undefined;
      }
      // A compile in progress is answered first, whatever the reason to exit.
      if (busy > 0) return;
      if (snapshotWanted && compiledIn !== undefined && blob && ino === ours && Date.now() - lastUse > SNAPSHOT_AFTER_IDLE_MS) {
        snapshotWanted = false;
        buildSnapshot(blob, compiledIn);
      }
      if (ino !== ours) why = 'its socket file was removed or replaced';
      else if (stopping) why = 'asked to stop, or its heap grew past its bound';
      else if (Date.now() - lastUse > idleMs) why = `idle for ${idleMs / 1000} s`;
      if (why === undefined) return;
      clearInterval(watch);
      log(`exiting: ${why}`);
      // Only our own socket file is removed: a replaced path belongs to the daemon that replaced it.
      if (ino === ours) fs.rmSync(socket, { force: true });
      // Resolves once every connection has ended, so no answer is cut short by the exit.
      server.close(() => resolve());
    }, WATCH_MS);
  });
}

/** Serves, then exits the process: 0 when done, 1 (the error in the log) when the daemon could not run. */
export function runDaemonProcess(startedFrom?: string): void {
  serveCompileDaemon(startedFrom).then(
    () => process.exit(0),
    (e: unknown) => {
      log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exit(1);
    }
  );
}

if (require.main === module) runDaemonProcess();
