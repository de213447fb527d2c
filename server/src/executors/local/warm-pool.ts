import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { POOL_ENV, POOL_MARKERS_ENV, type PoolAssignment } from '../task-entry-protocol';
import { distrustSnapshot, taskEntryArgs } from './runner-snapshot';

/**
 * util-linux's `setpriv`, when the machine has it: warm processes start through it with a
 * parent-death signal (prctl PR_SET_PDEATHSIG), so the kernel SIGKILLs one the moment the
 * server dies, even while its task blocks the event loop and cannot see its stdin close.
 * It then execs node: same pid, same command line.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

/** Warm processes that die before they are used, in a row, after which the pool stops starting more (cold starts still work). */
const MAX_IDLE_DEATHS = 3;

/**
 * Where warm processes record the attempt they took (see POOL_MARKERS_ENV): per user, so
 * one user's server never reads or stops another's processes.
 */
export function poolMarkersDir(): string {
  // Asked on every start and finish of an attempt: os.userInfo() reads the password database each time.
  markersDir ??= path.join(os.tmpdir(), `cellgraph-attempts-${os.userInfo().uid}`);
  return markersDir;
}
let markersDir: string | undefined;

/** A warm process handed out for one attempt: write its assignment once, then treat it as any child. */
export interface WarmProcess {
  readonly child: ChildProcessWithoutNullStreams;
  assign(assignment: PoolAssignment): void;
}

/**
 * Task processes started ahead of need: `node task-entry.js` with the runtime, the kernel
 * library and the schema already loaded, waiting on stdin for one assignment. Each is
 * handed out for exactly one attempt (or parameters check) and never taken back: it exits
 * when that attempt ends, so isolation, the clean environment and crash containment are
 * those of a cold process. The pool only moves the ~100-200 ms of process start and module
 * loading off the critical path, refilling itself as processes are taken.
 *
 * Every process starts with the same clean environment (task-env.ts without a task's own
 * variables); a task's declared env and secrets arrive with its assignment. Idle processes
 * hold no reference on the server's event loop, and they end their process group when
 * their stdin closes: a server that exits, crashes or is SIGKILLed takes them along.
 */
export class WarmPool {
  private static readonly shared = new Map<string, WarmPool>();

  /**
   * The pool of this process for a task entry: executors share it, so a process holds at
   * most the largest concurrency asked of it in warm processes, however many executors it makes.
   */
  static for(entry: string): WarmPool {
    let pool = WarmPool.shared.get(entry);
    if (pool === undefined) WarmPool.shared.set(entry, (pool = new WarmPool(entry)));
    return pool;
  }

  private readonly idle: ChildProcessWithoutNullStreams[] = [];
  private env?: Record<string, string>;
  private envKey?: string;
  private size = 0;
  private idleDeaths = 0;

  private constructor(private readonly entry: string) {}

  /** Keeps `size` processes with environment `env` ready (replacing ones started with another environment). */
  warm(env: Record<string, string>, size: number): void {
    this.setEnv(env);
    this.size = Math.max(this.size, size);
    this.fill();
  }

  /** A ready process with environment `env`, or undefined when none is (the caller starts one cold). */
  take(env: Record<string, string>): WarmProcess | undefined {
    this.setEnv(env);
    this.size = Math.max(this.size, 1);
    const child = this.idle.shift();
    // The replacement starts after the caller has handed this one its assignment: a spawn
    // blocks the event loop until the child execs (~1 ms idle, 10 ms and more on a busy
    // machine), which must not sit between a task's upstream finishing and its own start.
    setImmediate(() => this.fill());
    if (child === undefined) return undefined;
    this.idleDeaths = 0;
    setReferenced(child, true);
    return {
      child,
      assign: (assignment) => {
        child.stdin.on('error', () => undefined);
        child.stdin.write(`${JSON.stringify(assignment)}\n`);
      }
    };
  }

  /** Ends the idle processes; the next run warms it again (processes already handed out run on). */
  close(): void {
    this.size = 0;
    this.drain();
  }

  /** Idle processes right now (tests and benches). */
  get idlePids(): number[] {
    return this.idle.map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  private setEnv(env: Record<string, string>): void {
    const key = JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (key === this.envKey) return;
    this.drain();
    this.env = env;
    this.envKey = key;
  }

  private fill(): void {
    while (this.env !== undefined && this.idle.length < this.size && this.idleDeaths < MAX_IDLE_DEATHS) {
      this.idle.push(this.start(this.env));
    }
  }

  private start(env: Record<string, string>): ChildProcessWithoutNullStreams {
    // From the runner's start-up snapshot when there is one (runner-snapshot.ts): the same entry, its modules already loaded.
    const entryArgs = taskEntryArgs(this.entry);
    const node = [process.execPath, ...entryArgs];
    const [command, args] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', ...node]] : [node[0], node.slice(1)];
    const child = spawn(command, args, {
      env: { ...env, [POOL_ENV]: '1', [POOL_MARKERS_ENV]: poolMarkersDir() },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, as a cold task process: a stop ends everything the task started.
      detached: true
    });
    setReferenced(child, false);
    const forget = () => {
      const i = this.idle.indexOf(child);
      if (i < 0) return;
      // Died while idle (killed, or the entry cannot start): replace it, but not forever.
      this.idle.splice(i, 1);
      this.idleDeaths += 1;
      if (entryArgs[0] !== this.entry) distrustSnapshot(this.entry);
      this.fill();
    };
    child.on('error', forget);
    child.on('exit', forget);
    return child;
  }

  private drain(): void {
    for (const child of this.idle.splice(0)) {
      child.stdin.destroy();
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** An idle process must not keep the server (or a CLI run) alive; a working one must, like a cold one. */
function setReferenced(child: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as { ref?(): void; unref?(): void }[]) {
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}
