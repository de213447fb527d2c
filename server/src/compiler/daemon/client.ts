import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic } from '@cellgraph/schema';
import type { CompileInput, CompileResult } from '../index';
import { type DaemonReply, ask, daemonDisabled, daemonVersion, ensurePrivateDir, snapshotFile, socketPath } from './protocol';

/** How long a CLI waits for a daemon it started to listen, before compiling itself. */
const START_TIMEOUT_MS = 10_000;
/**
 * How long a CLI waits for an answer. Compiles have no time limit in the CLI; this only
 * bounds a daemon that hangs, after which the CLI compiles itself.
 */
const ANSWER_TIMEOUT_MS = 10 * 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Where this process keeps V8's compiled code (bin/cellgraph turns it on), if anywhere. */
function compileCacheDir(): string | undefined {
  try {
    return (require('node:module') as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.();
  } catch {
    return undefined;
  }
}

/**
 * Starts this build's daemon, detached (it outlives the CLI), its output appended to
 * `daemon.log` beside its socket; from its startup snapshot `blob` when that exists.
 * `failed` turns true when it exited with an error; a daemon that exits because another
 * one already listens exits 0.
 */
function startDaemon(dir: string, blob: string, fromSnapshot: boolean): { failed: () => boolean } {
  let log: number | 'ignore' = 'ignore';
  try {
    log = fs.openSync(path.join(dir, 'daemon.log'), 'a', 0o600);
  } catch {
    log = 'ignore';
  }
  const v8Cache = compileCacheDir();
  const entry = path.join(__dirname, 'daemon.js');
  const child = spawn(process.execPath, fromSnapshot ? ['--snapshot-blob', blob, entry] : [entry], {
    detached: true,
    cwd: dir,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      // The daemon shares the CLI's V8 compile cache (bin/cellgraph turns it on for the CLI only).
      ...(v8Cache !== undefined && process.env.NODE_COMPILE_CACHE === undefined ? { NODE_COMPILE_CACHE: v8Cache } : {}),
      CELLGRAPH_DAEMON_ENTRY: entry,
      CELLGRAPH_DAEMON_VERSION: daemonVersion(),
      CELLGRAPH_DAEMON_SNAPSHOT: blob
    }
  });
  if (typeof log === 'number') fs.closeSync(log);
  let failed = false;
  child.once('exit', (code) => (failed = code !== 0));
  child.once('error', () => (failed = true));
  child.unref();
  return { failed: () => failed };
}

/** A compile result of `absolute` as the compile of `given` (a relative path) reports it. */
function asGiven(result: CompileResult, absolute: string, given: string): CompileResult {
  if (absolute === given) return result;
  const named = (ds: Diagnostic[]) => ds.map((d) => (d.notebook === absolute ? { ...d, notebook: given } : d));
  if (!result.ok) return { ok: false, diagnostics: named(result.diagnostics) };
  const source = result.ir.source.path === absolute ? { ...result.ir.source, path: given } : result.ir.source;
  return { ...result, ir: { ...result.ir, source }, warnings: named(result.warnings) };
}

/** What happened to the last compile sent to the daemon, for tests and the bench. */
export interface DaemonOutcome {
  /** The daemon answered. */
  used: boolean;
  /** This call started the daemon (a cold first call). */
  started: boolean;
  /** Why the CLI compiles in its own process instead, when it does. */
  fallback?: string;
}

/** The outcome of this process's last {@link compileThroughDaemon}. */
export let lastOutcome: DaemonOutcome | undefined;

/**
 * Compiles through this user's compile daemon, starting it when none listens. Resolves
 * undefined when the daemon cannot be used (switched off, no private folder for its socket,
 * a read-only home, it did not start, it died mid-compile, it is another build's): the
 * caller then compiles in its own process. Never returns another compiler version's answer.
 * `folders.checks` is where the daemon files each task's check (the CLI's DiskCheckCache
 * folder); `folders.snapshots` where its startup snapshot is kept (docs/cli-speed.md).
 */
export async function compileThroughDaemon(input: CompileInput, folders: { checks: string; snapshots: string }): Promise<CompileResult | undefined> {
  let started = false;
  const fallback = (why: string) => {
    lastOutcome = { used: false, started, fallback: why };
    return undefined;
  };
  if (daemonDisabled()) return fallback('switched off (CELLGRAPH_COMPILE_DAEMON)');
  const socket = socketPath();
  if (socket === undefined) return fallback('the socket path would be too long');
  try {
    ensurePrivateDir(path.dirname(socket));
  } catch (e) {
    return fallback(e instanceof Error ? e.message : String(e));
  }
  // The daemon runs in another folder: it gets the absolute path, and the answer names the path the user gave.
  const absolute = path.resolve(input.path);
  const request = { kind: 'compile' as const, version: daemonVersion(), checksDir: folders.checks, input: { path: absolute, text: input.text, ...(input.name !== undefined ? { name: input.name } : {}) } };

  let reply: DaemonReply | 'unreachable' | 'lost' = fs.existsSync(socket) ? await ask(socket, request, ANSWER_TIMEOUT_MS) : 'unreachable';
  if (reply === 'unreachable') {
    // None listens (first use, idle exit, a crash): start one and wait for its socket.
    started = true;
    const blob = snapshotFile(folders.snapshots);
    let fromSnapshot = fs.existsSync(blob);
    let daemon = startDaemon(path.dirname(socket), blob, fromSnapshot);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (reply === 'unreachable' && Date.now() < deadline) {
      if (daemon.failed()) {
        if (!fromSnapshot) break;
        // A damaged or unusable snapshot: dropped (the daemon builds a new one), and a plain start instead.
        fs.rmSync(blob, { force: true });
        fromSnapshot = false;
        daemon = startDaemon(path.dirname(socket), blob, false);
      }
      await sleep(20);
      if (fs.existsSync(socket)) reply = await ask(socket, request, ANSWER_TIMEOUT_MS);
    }
    if (reply === 'unreachable') return fallback(daemon.failed() ? 'the daemon failed to start (see daemon.log)' : 'the daemon did not start in time');
  }
  if (reply === 'lost') return fallback('the daemon stopped before it answered');
  switch (reply.kind) {
    case 'result':
      lastOutcome = { used: true, started };
      return asGiven(reply.result, absolute, input.path);
    case 'wrong-version':
      return fallback(`the daemon is another build's (${reply.version.slice(0, 16)})`);
    default:
      return fallback(`the daemon answered ${reply.kind}${reply.kind === 'error' ? `: ${reply.message}` : ''}`);
  }
}
