import { inspect } from 'node:util';
import type { Command } from 'commander';
import { decodeValue } from '@cellgraph/kernel';
import { NotFoundError } from '../../errors';
import { findRun } from '../find-run';
import { out } from '../output';

/** `cellgraph outputs RUN TASK`: a task's output values with their TypeScript types, and its metrics. */
export function registerOutputs(program: Command): void {
  program
    .command('outputs')
    .description("print a task's outputs (decoded values with their TypeScript types) and metrics")
    .argument('<run>', 'run id')
    .argument('<task>', 'task name')
    .option('--home <dir>', 'cellgraph home holding the run (env CELLGRAPH_HOME)')
    .option('--json', 'print JSON: each output with type, hash, size and its encoded value')
    .action(async (runId: string, task: string, opts: { home?: string; json?: boolean }) => {
      const { session } = await findRun(runId, opts.home);
      try {
        const record = (await session.state.getTaskRuns(runId)).find((t) => t.task === task);
        if (record === undefined) throw new NotFoundError(`run ${runId} has no task ${JSON.stringify(task)}`);
        if (opts.json) {
          const outputs = [];
          for (const o of record.outputs) {
            const bytes = await session.store.getBlob(o);
            outputs.push({ ...o, value: JSON.parse(bytes.toString('utf8')) as unknown });
          }
          out(JSON.stringify({ runId, task, status: record.status, outputs, metrics: record.metrics }, null, 2));
          return;
        }
        if (record.outputs.length === 0) out(`${task}: no outputs (${record.status})`);
        for (const o of record.outputs) {
          const value = decodeValue(await session.store.getBlob(o));
          out(`${o.name}: ${o.type} = ${inspect(value, { depth: 4, maxArrayLength: 20, breakLength: 100 })}`);
        }
        for (const [k, v] of Object.entries(record.metrics)) out(`metric ${k} = ${v}`);
      } finally {
        await session.close();
      }
    });
}
