import type { Command } from 'commander';
import { NotebookFileName, RunSummary, type RunLogsResponse, type RunStatus, apiRoutes, formatDiagnostic, type ListRunsResponse, type RunDetail } from '@cellgraph/schema';
import { ApiClient } from '../../api/client';
import { CompileError, ValidationError } from '../../errors';
import { readNotebook } from '../notebook-input';
import { EXIT_FAILED, EXIT_INTERRUPTED, err, out } from '../output';
import { progressPrinter } from '../progress';

/**
 * Remote mode: `cellgraph --server URL <command>` talks to a companion server instead of
 * a local home, printing the same shapes as local mode. The token comes from
 * CELLGRAPH_TOKEN (never a flag: flags show up in `ps`).
 */
export function remoteClient(cmd: Command): ApiClient | undefined {
  const server = (cmd.optsWithGlobals() as { server?: string }).server;
  if (server === undefined) return undefined;
  const token = process.env.CELLGRAPH_TOKEN;
  if (!token) throw new ValidationError('--server needs a token in CELLGRAPH_TOKEN (the server token or a personal API token)', 'token');
  return new ApiClient(server, token);
}

/** The global `--project` (a server's project; absent = `default`). */
export function projectOption(cmd: Command): string | undefined {
  return (cmd.optsWithGlobals() as { project?: string }).project;
}

/** For commands that exist only against a server. */
export function requireRemote(cmd: Command): ApiClient {
  const client = remoteClient(cmd);
  if (client === undefined) throw new ValidationError(`cellgraph ${cmd.name()} talks to a server: pass --server URL (before the command) and set CELLGRAPH_TOKEN`, 'server');
  return client;
}

/** `runs` against a server: the same table or JSON rows, with the server URL as the home. */
export async function remoteRuns(client: ApiClient, opts: { limit: number; status?: RunStatus }): Promise<(ListRunsResponse['runs'][number] & { home: string })[]> {
  const { runs } = await client.call(apiRoutes.listRuns, { query: { limit: opts.limit, status: opts.status } });
  return runs.map((r) => ({ ...r, home: client.url }));
}

/** Submits a notebook's content, follows its events to the end, and returns the summary (null after a compile error, already printed). */
export async function remoteRun(
  client: ApiClient,
  file: string,
  opts: { param: string[]; cache: boolean; project?: string }
): Promise<RunSummary | null> {
  const nb = readNotebook(file);
  const name = nb.absolutePath.split('/').pop() ?? 'notebook.ipynb';
  let started: RunDetail;
  try {
    started = await client.call(apiRoutes.createRun, {
      body: {
        notebook: nb.text,
        notebookName: NotebookFileName.safeParse(name).success ? name : 'notebook.ipynb',
        paramAssignments: opts.param,
        noCache: !opts.cache,
        ...(opts.project !== undefined ? { project: opts.project } : {})
      }
    });
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    for (const d of e.diagnostics) err(formatDiagnostic(d));
    err(e.message);
    return null;
  }
  return followToEnd(client, started);
}

/** Follows a started run on the server, printing progress; Ctrl-C cancels it on the server. */
export async function followToEnd(client: ApiClient, started: RunDetail): Promise<RunSummary> {
  err(`run ${started.runId}: workflow ${started.workflow}, ${started.tasks.length} tasks, server ${client.url}`);
  const width = Math.max(...started.tasks.map((t) => t.name.length));
  const onSigint = () => {
    err('cancelling on the server…');
    void client.call(apiRoutes.cancelRun, { params: { id: started.runId } }).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    await client.followEvents(started.runId, progressPrinter(width));
  } finally {
    process.off('SIGINT', onSigint);
  }
  return RunSummary.parse(await client.call(apiRoutes.getRun, { params: { id: started.runId } }));
}

/** Exit code for a finished run, as local `run` uses. */
export function runExitCode(s: RunSummary): number {
  if (s.status === 'cancelled') return EXIT_INTERRUPTED;
  return s.status === 'succeeded' ? 0 : EXIT_FAILED;
}

/** `logs RUN [TASK] [--element N]` against a server, in local mode's format. */
export async function remoteLogs(client: ApiClient, runId: string, task: string | undefined, element?: number): Promise<void> {
  printLogs(await client.call(apiRoutes.runLogs, { params: { id: runId }, query: { task, element } }));
}

/** Prints logs as `cellgraph logs` does: each attempt under a `== task attempt i/n (state)` line (`task[i]` for an element). */
export function printLogs(logs: Pick<RunLogsResponse, 'tasks'>): void {
  for (const t of logs.tasks) {
    const name = t.element === undefined ? t.task : `${t.task}[${t.element}]`;
    if (t.attempts.length === 0) {
      out(`== ${name}: ${t.status}${t.cached ? ' (cached, no attempt in this run)' : ', never started'}`);
      continue;
    }
    const n = t.attempts.length;
    for (const a of t.attempts) {
      out(`== ${name} attempt ${a.attempt}/${n} (${a.live ? 'running' : a.attempt === n ? t.status : 'failed'})`);
      out(a.text.length > 0 || a.live ? a.text : '(no log recorded)');
    }
  }
}
