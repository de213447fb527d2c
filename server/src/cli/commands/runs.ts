import type { Command } from 'commander';
import { remoteClient, remoteRuns } from '../remote/remote';
import { RunRecord, RunStatus, apiRoutes } from '@cellgraph/schema';
import { summarizeRun } from '../../engine/engine';
import { loadWorkflow } from '../../engine/workflow-files';
import { findRun } from '../find-run';
import { printSummary } from './run';
import { ValidationError } from '../../errors';
import { openHome } from '../../runtime';
import { candidateHomes } from '../homes';
import { formatDuration, out, table } from '../output';

/** `cellgraph runs`: recent runs across the homes this user ran notebooks in. */
export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list recent runs, newest first; with a run id, show that run as `run` ends (tasks, element counts, why tasks were skipped)')
    .argument('[run]', 'a run id: show this run')
    .option('--home <dir>', 'only this cellgraph home (env CELLGRAPH_HOME)')
    .option('--status <status>', 'only runs with this status')
    .option('--limit <n>', 'at most this many runs', '20')
    .option('--json', 'print JSON')
    .action(async (runId: string | undefined, opts: { home?: string; status?: string; limit: string; json?: boolean }, cmd: Command) => {
      if (runId !== undefined) return showRun(runId, opts, cmd);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new ValidationError(`--limit must be a positive integer`, 'limit');
      const status = opts.status === undefined ? undefined : RunStatus.safeParse(opts.status);
      if (status && !status.success) throw new ValidationError(`--status must be one of ${RunStatus.options.join(', ')}`, 'status');
      const rows: (RunRecord & { home: string; done: number; total: number })[] = [];
      const client = remoteClient(cmd);
      if (client !== undefined) rows.push(...(await remoteRuns(client, { limit, status: status?.data })));
      for (const home of client !== undefined ? [] : candidateHomes(opts.home)) {
        const session = await openHome(home);
        try {
          for (const run of await session.state.listRuns({ limit, status: status?.data })) {
            const tasks = await session.state.getTaskRuns(run.id);
            const done = tasks.filter((t) => t.status === 'succeeded' || t.status === 'cached').length;
            rows.push({ ...run, home, done, total: tasks.length });
          }
        } finally {
          await session.close();
        }
      }
      rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      const shown = rows.slice(0, limit);
      if (opts.json) {
        out(JSON.stringify(shown, null, 2));
        return;
      }
      out(
        table(
          ['RUN', 'WORKFLOW', 'STATUS', 'CREATED', 'TIME', 'TASKS'],
          shown.map((r) => [
            r.id,
            r.workflow,
            r.status,
            r.createdAt.replace('T', ' ').slice(0, 19),
            formatDuration(r.startedAt && r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.startedAt) : undefined),
            `${r.done}/${r.total}`
          ])
        )
      );
    });
}

/** `cellgraph runs RUN`: one run's summary, printed as `cellgraph run` prints it at the end. */
async function showRun(runId: string, opts: { home?: string; json?: boolean }, cmd: Command): Promise<void> {
  const client = remoteClient(cmd);
  if (client !== undefined) {
    printSummary(await client.call(apiRoutes.getRun, { params: { id: runId } }), opts.json === true);
    return;
  }
  const { session, run } = await findRun(runId, opts.home);
  try {
    const ir = await loadWorkflow(session.store, run.version);
    const executed = run.executedNotebook !== undefined ? (session.store.localPath(run.executedNotebook) ?? run.executedNotebook) : undefined;
    printSummary(summarizeRun(run, await session.state.getTaskRuns(runId), ir, executed), opts.json === true);
  } finally {
    await session.close();
  }
}
