import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { Diagnostic, WorkflowIR } from '@cellgraph/schema';
import { compilerFingerprint } from '../compiler-version';

/**
 * The CLI's compile daemon speaks newline-delimited JSON over a unix socket: one request
 * line, one reply line. Both sides parse with these schemas; `stop` and `ping` keep their
 * shape across versions, so a daemon can stop another build's daemon.
 */
export const DaemonRequest = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('compile'), version: z.string(), checksDir: z.string(), input: z.object({ path: z.string(), text: z.string(), name: z.string().optional() }) }),
  z.object({ kind: z.literal('ping') }),
  z.object({ kind: z.literal('stop') })
]);
export type DaemonRequest = z.infer<typeof DaemonRequest>;

const CompileResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), ir: WorkflowIR, warnings: z.array(Diagnostic), inputs: z.array(z.string()) }),
  z.object({ ok: z.literal(false), diagnostics: z.array(Diagnostic) })
]);

export const DaemonReply = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('result'), result: CompileResultSchema }),
  /** The daemon is another build's: its answers are not ours to use. */
  z.object({ kind: z.literal('wrong-version'), version: z.string() }),
  z.object({ kind: z.literal('pong'), version: z.string(), pid: z.number() }),
  z.object({ kind: z.literal('stopping') }),
  z.object({ kind: z.literal('error'), message: z.string() })
]);
export type DaemonReply = z.infer<typeof DaemonReply>;

/** What the daemon hands its startup snapshot's builder (snapshot-builder.ts; environment variable CELLGRAPH_SNAPSHOT_INPUT, JSON). */
export interface SnapshotInput {
  /** typescript.js, as the daemon resolves `typescript`. */
  typescript: string;
  /** The checker's options for a notebook with no packages of its own (checkerOptions). */
  options: import('typescript').CompilerOptions;
  /** A path for the one-line file compiled to parse and bind the declarations. */
  root: string;
  /** The compiler's folder (its built index.js and typescript-host.js). */
  compilerDir: string;
  /** The compiler's modules, evaluated in the snapshot (compilerModules in snapshot.ts). */
  modules: SnapshotModule[];
  /** Notebooks compiled in the snapshot (the daemon's last; those setup prepares), so their first compile after the start builds on their programs. */
  notebooks: { path: string; text: string }[];
  /** Built ahead (`cellgraph daemon prepare`), not from the user's own compile: a daemon started from it builds one for the user's project. */
  prepared?: boolean;
}

/** One CommonJS module for the snapshot: its file and how each of its literal `require`s resolves. */
export interface SnapshotModule {
  file: string;
  requires: Record<string, string>;
}

let version: string | undefined;

/** Every .js file under `dir` (not in node_modules) with its size and modification time. */
function stampTree(dir: string, h: ReturnType<typeof createHash>): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const file = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules' && e.name !== '__tests__') stampTree(file, h);
    else if (e.isFile() && e.name.endsWith('.js')) {
      const st = fs.statSync(file);
      h.update(`${file}\0${st.size}\0${st.mtimeMs}\0`);
    }
  }
}

/**
 * What a daemon must match to answer for this CLI: the compiler's fingerprint (its code,
 * TypeScript's version, the IR version), the Node version, and the size and modification
 * time of every built file of this package and of @cellgraph/schema (a daemon keeps the
 * code it loaded: a rebuilt schema or helper must not be answered by the old one). Any
 * difference is another daemon (another socket). Computed only when a compile is needed.
 */
export function daemonVersion(): string {
  if (version) return version;
  const h = createHash('sha256').update(`${compilerFingerprint()}\0${process.version}\0`);
  stampTree(path.resolve(__dirname, '..', '..'), h);
  stampTree(path.dirname(require.resolve('@cellgraph/schema')), h);
  version = h.digest('hex');
  return version;
}

/**
 * The folder holding the daemons' sockets and log: `CELLGRAPH_DAEMON_DIR`, else the user's
 * state folder (`$XDG_STATE_HOME/cellgraph/daemon`, `~/.local/state/cellgraph/daemon`).
 */
export function daemonDir(): string {
  if (process.env.CELLGRAPH_DAEMON_DIR) return process.env.CELLGRAPH_DAEMON_DIR;
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'cellgraph', 'daemon');
}

/** A unix socket's path must fit sockaddr_un (108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;

/** The socket of this build's daemon, or undefined when its path would be too long for a unix socket. */
export function socketPath(dir = daemonDir(), v = daemonVersion()): string | undefined {
  const p = path.join(dir, `compile-${v.slice(0, 16)}.sock`);
  return Buffer.byteLength(p) <= MAX_SOCKET_PATH ? p : undefined;
}

/**
 * Makes the daemon folder (mode 0700) and checks that only this user can reach into it: a
 * socket in a folder someone else can write could be theirs, answering with their results.
 * Throws when the folder cannot be made or is not private.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a private folder of this user (mode ${(st.mode & 0o777).toString(8)}); the compile daemon is not used`);
  }
}

/** The startup snapshot of the daemon of version `v`, in the user's V8 cache folder `dir`. */
export function snapshotFile(dir: string, v = daemonVersion()): string {
  return path.join(dir, `daemon-${v.slice(0, 16)}.blob`);
}

/** Switches the compile daemon off (`CELLGRAPH_COMPILE_DAEMON=off|0|false`): the CLI then compiles in its own process. */
export function daemonDisabled(env = process.env): boolean {
  return /^(off|0|false|no)$/i.test(env.CELLGRAPH_COMPILE_DAEMON ?? '');
}

/**
 * Sends one request to a daemon's socket and resolves its reply: `unreachable` when nothing
 * listens there (no socket, or a crashed daemon's), `lost` when the connection ended
 * without a valid answer (the daemon died mid-compile, or the timeout passed).
 */
export function ask(socket: string, request: DaemonRequest, timeoutMs: number): Promise<DaemonReply | 'unreachable' | 'lost'> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socket);
    let buffer = '';
    let connected = false;
    let settled = false;
    const done = (reply: DaemonReply | 'unreachable' | 'lost') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => done(connected ? 'lost' : 'unreachable'), timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => {
      connected = true;
      conn.write(`${JSON.stringify(request)}\n`);
    });
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(buffer.slice(0, end));
      } catch {
        return done('lost');
      }
      const reply = DaemonReply.safeParse(parsed);
      done(reply.success ? reply.data : 'lost');
    });
    conn.on('error', () => done(connected ? 'lost' : 'unreachable'));
    conn.on('close', () => done(connected ? 'lost' : 'unreachable'));
  });
}
