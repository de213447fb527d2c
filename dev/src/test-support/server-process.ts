import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunDetail, readRunEvents, type RunEvent } from '@cellgraph/schema';
import { textChunks } from '@cellgraph/server/dist/api/client';
import { linkNodeModules } from './notebooks';
import { waitFor } from './wait-for';

/** The built CLI: tests run the real `cellgraph server` process. */
export const CLI = path.resolve(__dirname, '..', '..', '..', 'server', 'dist', 'cli', 'main.js');

/** A `cellgraph server` child process on 127.0.0.1, with helpers to talk to it. */
export interface ServerProcess {
  url: string;
  token: string;
  child: ChildProcess;
  stderr(): string;
  /** fetch with the bearer token. */
  api(pathname: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** Resolves with the exit code (or signal) once the process ended. */
  exited: Promise<number | NodeJS.Signals | null>;
}

const started = new Set<ChildProcess>();

/** A temporary directory with the repository's node_modules linked in (notebooks import @cellgraph/kernel). */
export function tempWorkDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  linkNodeModules(dir);
  return dir;
}

/** Starts the server on a free port and waits for the `listening:` line on stdout. */
export async function startServerProcess(
  dir: string,
  options: { token?: string; args?: string[]; env?: Record<string, string> } = {}
): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_HOME: '', CELLGRAPH_PORT: '', CELLGRAPH_HOST: '', ...options.env };
  if (options.token !== undefined) env.CELLGRAPH_TOKEN = options.token;
  else delete env.CELLGRAPH_TOKEN;
  const child = spawn(process.execPath, [CLI, 'server', '--host', '127.0.0.1', '--port', '0', '--workdir', dir, ...(options.args ?? [])], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('exit', (code, signal) => {
      started.delete(child);
      resolve(code ?? signal);
    })
  );
  const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      const url = /^listening: (\S+)$/m.exec(stdout)?.[1];
      const token = options.token ?? /^token: (\S+)$/m.exec(stdout)?.[1];
      if (url !== undefined && token !== undefined) {
        clearTimeout(timer);
        resolve({ url, token });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${stderr}`));
    });
  });
  const api = (pathname: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    return fetch(`${url}${pathname}`, { ...init, headers, body });
  };
  return { url, token, child, stderr: () => stderr, api, exited };
}

/** Kills every server a test started and left running (by PID). */
export async function stopAllServers(): Promise<void> {
  const waits = [...started].map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve()))));
  for (const c of started) c.kill('SIGKILL');
  await Promise.all(waits);
}

/**
 * Reads a Server-Sent Events response with the clients' reader until it ends or `until`
 * says stop; returns the events with their ids.
 */
export async function readEvents(res: Response, until?: (e: RunEvent) => boolean): Promise<{ id: string | undefined; event: RunEvent }[]> {
  const out: { id: string | undefined; event: RunEvent }[] = [];
  for await (const { id, event } of readRunEvents(textChunks(res))) {
    out.push({ id, event });
    if (until?.(event)) break;
  }
  return out;
}

/** Submits a run (`POST /api/v1/runs` with `body`) and waits for its end; returns the run as it ended. */
export async function runToEnd(s: ServerProcess, body: unknown, timeoutMs = 60_000): Promise<RunDetail> {
  const res = await s.api('/api/v1/runs', { method: 'POST', json: body });
  if (res.status !== 201) throw new Error(`POST /api/v1/runs answered ${res.status}: ${await res.text()}`);
  const { runId } = RunDetail.parse(await res.json());
  return waitFor(async () => {
    const r = RunDetail.parse(await (await s.api(`/api/v1/runs/${runId}`)).json());
    return r.status === 'running' || r.status === 'queued' ? undefined : r;
  }, timeoutMs, `run ${runId}`);
}

// Tests of the server import it from here too.
export { waitFor } from './wait-for';
