import type { Command } from 'commander';
import { attemptKey } from '@cellgraph/schema';
import { NotFoundError } from '../../errors';
import { findRun } from '../find-run';
import { out } from '../output';
import { remoteClient, remoteLogs } from '../remote/remote';

/** `cellgraph logs RUN [TASK]`: the output of every attempt of a run's tasks. */
export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print a run's task logs (every attempt), or one task's")
    .argument('<run>', 'run id')
    .argument('[task]', 'only this task')
    .option('--home <dir>', 'cellgraph home holding the run (env CELLGRAPH_HOME)')
    .action(async (runId: string, task: string | undefined, opts: { home?: string }, cmd: Command) => {
      const client = remoteClient(cmd);
      if (client !== undefined) return remoteLogs(client, runId, task);
      const { session } = await findRun(runId, opts.home);
      try {
        const tasks = await session.state.getTaskRuns(runId);
        const chosen = task === undefined ? tasks : tasks.filter((t) => t.task === task);
        if (chosen.length === 0) throw new NotFoundError(`run ${runId} has no task ${JSON.stringify(task)}; it has: ${tasks.map((t) => t.task).join(', ')}`);
        for (const t of chosen) {
          if (t.attempts === 0) {
            out(`== ${t.task}: ${t.status}${t.cached ? ' (cached, no attempt in this run)' : ', never started'}`);
            continue;
          }
          for (let attempt = 1; attempt <= t.attempts; attempt++) {
            out(`== ${t.task} attempt ${attempt}/${t.attempts} (${attempt === t.attempts ? t.status : 'failed'})`);
            const key = attemptKey(runId, t.task, attempt, 'log.txt');
            out((await session.store.hasFile(key)) ? (await session.store.getFile(key)).toString('utf8') : '(no log recorded)');
          }
        }
      } finally {
        await session.close();
      }
    });
}
