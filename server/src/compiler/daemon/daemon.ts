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
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { DiskCheckCache } from '../check-cache';
import { compileNotebook } from '../index';
import { type DaemonReply, DaemonRequest, ask, daemonVersion, ensurePrivateDir, socketPath } from './protocol';
import { buildSnapshot } from './snapshot';

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
/**
 * Runs the daemon until it is idle, replaced or stopped. `startedFrom` says how its process
 * started (for the log); a daemon not started from a snapshot builds one once idle after a
 * compile, for the next cold start (`CELLGRAPH_DAEMON_SNAPSHOT` names the file, set by the CLI).
 * `knownVersion` is the version the CLI that started it computed for this same build (it
 * spares the daemon stamping every built file again before its first answer).
 * `replaceSnapshot`: it started from a snapshot setup prepared (another project's, likely),
 * so it builds one from the user's own compile once idle, as a plain start does.
 */
export async function serveCompileDaemon(startedFrom = 'a plain start', knownVersion?: string, replaceSnapshot = false): Promise<void> {
  const version = knownVersion ?? daemonVersion();
  const socket = socketPath(undefined, version);
  if (socket === undefined) throw new Error('the daemon folder path is too long for a unix socket');
  const dir = path.dirname(socket);
  ensurePrivateDir(dir);
  const idleMs = Number(process.env.CELLGRAPH_COMPILE_DAEMON_IDLE_SECONDS || DEFAULT_IDLE_SECONDS) * 1000;
  const checkCaches = new Map<string, DiskCheckCache>();
  let lastUse = Date.now();
  let busy = 0;
  let stopping = false;
  const blob = process.env.CELLGRAPH_DAEMON_SNAPSHOT;
  /** The last notebook compiled, once one was: the snapshot compiles it, so the next cold start builds on its programs. */
  let compiled: { path: string; text: string } | undefined;
  let snapshotWanted = blob !== undefined && blob !== '' && (replaceSnapshot || (startedFrom === 'a plain start' && !fs.existsSync(blob)));

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
      compiled = { path: request.input.path, text: request.input.text };
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
      if (snapshotWanted && compiled !== undefined && blob && ino === ours && Date.now() - lastUse > SNAPSHOT_AFTER_IDLE_MS) {
        snapshotWanted = false;
        void buildSnapshot(blob, { notebookDir: path.dirname(compiled.path), notebooks: [compiled] }, log, true);
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
export function runDaemonProcess(startedFrom?: string, replaceSnapshot = false): void {
  // Set by the CLI that started this daemon (client.ts), which computed it for this build.
  const known = process.env.CELLGRAPH_DAEMON_VERSION;
  serveCompileDaemon(startedFrom, known && /^[0-9a-f]{64}$/.test(known) ? known : undefined, replaceSnapshot).then(
    () => process.exit(0),
    (e: unknown) => {
      log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exit(1);
    }
  );
}

if (require.main === module) runDaemonProcess();
