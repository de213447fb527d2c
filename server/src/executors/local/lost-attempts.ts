import * as fs from 'node:fs';
import * as path from 'node:path';
import { INVOCATION_ENV } from '../task-entry-protocol';
import { poolMarkersDir } from './warm-pool';

/**
 * Attempts that outlive their server. Local task processes run in their own process
 * group (so Ctrl-C and timeouts end everything a task started), which also means a
 * SIGKILLed server leaves them running. Before a restarted server retries such a task it
 * finds the orphan by the invocation in its environment (run and task) and stops its
 * process group, so a task never runs twice at once and an orphan never files a result
 * or a side effect late. The scan needs /proc (Linux); elsewhere it finds nothing.
 * A warm process (warm-pool.ts) got its attempt after it started, so its environment does
 * not name it: it is found by the marker it wrote instead (it normally ends with the server,
 * unless its task blocks the event loop).
 */
export async function stopLostAttempts(runId: string, task: string): Promise<number[]> {
  const found = [...findTaskProcesses(runId, task), ...findWarmProcesses(runId, task)];
  for (const pid of found) signalGroup(pid, 'SIGKILL');
  for (let i = 0; i < 50 && found.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  return found;
}

/** Processes of this user running a task entry for this run and task. */
function findTaskProcesses(runId: string, task: string): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  const prefix = `${INVOCATION_ENV}=`;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('task-entry')) continue;
      const variable = fs
        .readFileSync(`/proc/${entry}/environ`, 'utf8')
        .split('\0')
        .find((v) => v.startsWith(prefix));
      if (variable === undefined) continue;
      const invocation = JSON.parse(variable.slice(prefix.length)) as { runId?: unknown; task?: unknown };
      if (invocation.runId === runId && invocation.task === task) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read: not a lost attempt of this run.
    }
  }
  return pids;
}

/** Warm processes of this user whose marker names this run and task; markers of processes gone are removed. */
function findWarmProcesses(runId: string, task: string): number[] {
  const dir = poolMarkersDir();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    const pid = Number(path.basename(name, '.json'));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      if (!alive(pid) || !fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('task-entry')) {
        fs.rmSync(path.join(dir, name), { force: true });
        continue;
      }
      const marker = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { runId?: unknown; task?: unknown };
      if (marker.runId === runId && marker.task === task) pids.push(pid);
    } catch {
      // Gone meanwhile: nothing to stop.
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}
