import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { NotFoundError, ValidationError } from '../../errors';
import { readElementRecords } from '../../engine/element-records';
import { readFiledAttemptLog } from '../../executors/attempt-log';
import { findRun } from '../find-run';
import { out } from '../output';
import { printLogs, remoteClient, remoteLogs } from '../remote/remote';

/** `cellgraph logs RUN [TASK] [--element N]`: the output of every attempt of a run's tasks, or of one foreach element. */
export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print a run's task logs (every attempt), or one task's, or one element's of a foreach task")
    .argument('<run>', 'run id')
    .argument('[task]', 'only this task')
    .option('--element <n>', "only this element of a foreach task (0-based; TASK required)", elementIndex)
    .option('--home <dir>', 'cellgraph home holding the run (env CELLGRAPH_HOME)')
    .action(async (runId: string, task: string | undefined, opts: { home?: string; element?: number }, cmd: Command) => {
      if (opts.element !== undefined && task === undefined) throw new ValidationError('--element needs the foreach task: cellgraph logs RUN TASK --element N', 'element');
      const client = remoteClient(cmd);
      if (client !== undefined) return remoteLogs(client, runId, task, opts.element);
      const { session } = await findRun(runId, opts.home);
      try {
        const tasks = await session.state.getTaskRuns(runId);
        const chosen = task === undefined ? tasks : tasks.filter((t) => t.task === task);
        if (chosen.length === 0) throw new NotFoundError(`run ${runId} has no task ${JSON.stringify(task)}; it has: ${tasks.map((t) => t.task).join(', ')}`);
        if (opts.element !== undefined) {
          const t = chosen[0];
          const records = await readElementRecords(session.store, runId, t.task);
          if (records === undefined && t.elements === undefined) throw new ValidationError(`task ${t.task} is not a foreach task (or has not started): it has no elements`, 'element');
          const e = records?.find((r) => r.index === opts.element);
          if (e === undefined) throw new NotFoundError(`task ${t.task} of run ${runId} has no element ${String(opts.element)} (it has ${records?.length ?? 0})`);
          const attempts = [];
          for (let attempt = 1; attempt <= e.attempts; attempt++) {
            attempts.push({ attempt, live: false, text: (await readFiledAttemptLog(session.store, { runId, task: t.task, attempt, element: e.index })) ?? '' });
          }
          printLogs({ tasks: [{ task: t.task, element: e.index, status: e.state, cached: e.cached, attempts }] });
          return;
        }
        for (const t of chosen) {
          if (t.attempts === 0) {
            out(`== ${t.task}: ${t.status}${t.cached ? ' (cached, no attempt in this run)' : ', never started'}`);
            continue;
          }
          for (let attempt = 1; attempt <= t.attempts; attempt++) {
            out(`== ${t.task} attempt ${attempt}/${t.attempts} (${attempt === t.attempts ? t.status : 'failed'})`);
            out((await readFiledAttemptLog(session.store, { runId, task: t.task, attempt })) ?? '(no log recorded)');
          }
        }
      } finally {
        await session.close();
      }
    });
}

/** `--element`: a non-negative integer. */
function elementIndex(value: string): number {
  if (!/^[0-9]{1,9}$/.test(value)) throw new InvalidArgumentError('an element index: 0, 1, 2, ...');
  return Number(value);
}
