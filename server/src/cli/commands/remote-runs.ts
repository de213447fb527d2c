import type { Command } from 'commander';
import { apiRoutes, formatDiagnostic, type PromoteResponse, type RunSummary } from '@cellgraph/schema';
import { CompileError } from '../../errors';
import { readNotebook } from '../notebook-input';
import { EXIT_FAILED, err, out, table } from '../output';
import { followToEnd, projectOption, requireRemote, runExitCode } from '../remote/remote';
import { printSummary } from './run';

/**
 * Commands that act on a companion server only: cancel, retry, promote, versions.
 * (`run`, `runs` and `logs` take `--server` too and otherwise work locally.)
 */
export function registerRemoteCommands(program: Command): void {
  program
    .command('cancel')
    .description('cancel a run on the server (--server)')
    .argument('<run>', 'run id')
    .option('--json', 'print the run as JSON')
    .action(async (runId: string, opts: { json?: boolean }, cmd: Command) => {
      const run = await requireRemote(cmd).call(apiRoutes.cancelRun, { params: { id: runId } });
      if (opts.json) out(JSON.stringify(run, null, 2));
      else out(`run ${run.runId} ${run.status}`);
    });

  program
    .command('retry')
    .description('re-run a failed or cancelled run on the server from its failed tasks, reusing what succeeded (--server)')
    .argument('<run>', 'run id')
    .option('--no-cache', 'run the failed tasks even when a cached result exists')
    .option('--json', 'print the run summary as JSON on stdout')
    .option('--detach', 'print the new run id and return without following it')
    .action(async (runId: string, opts: { cache: boolean; json?: boolean; detach?: boolean }, cmd: Command) => {
      const client = requireRemote(cmd);
      const started = await client.call(apiRoutes.retryRun, { params: { id: runId }, body: { noCache: !opts.cache } });
      if (opts.detach) {
        out(started.runId);
        return;
      }
      const summary = await followToEnd(client, started);
      printSummary(summary, opts.json === true);
      process.exitCode = runExitCode(summary);
    });

  program
    .command('promote')
    .description('freeze a notebook as a numbered workflow version on the server (the same content twice is one version) (--server)')
    .argument('<notebook>', 'path to the .ipynb file (sent to the server)')
    .option('--run', 'also run the promoted version and follow it')
    .option('--json', 'print the promotion as JSON')
    .action(async (file: string, opts: { run?: boolean; json?: boolean }, cmd: Command) => {
      const client = requireRemote(cmd);
      const nb = readNotebook(file);
      const name = nb.absolutePath.split('/').pop() ?? 'notebook.ipynb';
      let promoted: PromoteResponse;
      try {
        const project = projectOption(cmd);
        promoted = await client.call(apiRoutes.promote, { body: { notebook: nb.text, notebookName: name, run: opts.run === true, ...(project !== undefined ? { project } : {}) } });
      } catch (e) {
        if (!(e instanceof CompileError)) throw e;
        for (const d of e.diagnostics) err(formatDiagnostic(d));
        err(e.message);
        process.exitCode = EXIT_FAILED;
        return;
      }
      const v = promoted.version;
      if (!opts.run || promoted.run === undefined) {
        if (opts.json) out(JSON.stringify(promoted, null, 2));
        else out(`${v.workflow} version ${v.number} (${v.version})${promoted.created ? '' : ' — unchanged, already promoted'}`);
        return;
      }
      err(`${v.workflow} version ${v.number} (${v.version})${promoted.created ? '' : ' — unchanged, already promoted'}`);
      const summary: RunSummary = await followToEnd(client, promoted.run);
      printSummary(summary, opts.json === true);
      process.exitCode = runExitCode(summary);
    });

  program
    .command('versions')
    .description("list a workflow's promoted versions on the server, or diff two of them (--server)")
    .argument('<workflow>', 'workflow name')
    .option('--diff <a..b>', 'what changed from version a to b, task by task (numbers or content hashes)')
    .option('--json', 'print JSON')
    .action(async (workflow: string, opts: { diff?: string; json?: boolean }, cmd: Command) => {
      const client = requireRemote(cmd);
      if (opts.diff !== undefined) {
        const [a, b] = opts.diff.split('..');
        const diff = await client.call(apiRoutes.diffVersions, { params: { name: workflow, a: a ?? '', b: b ?? '' } });
        if (opts.json) return out(JSON.stringify(diff, null, 2));
        out(`${workflow}: version ${diff.from.number} -> ${diff.to.number}`);
        out(
          table(
            ['TASK', 'CHANGE', 'CODE', 'INPUTS', 'OUTPUTS', 'POLICY'],
            diff.tasks.map((t) => [
              t.task,
              t.change,
              t.code ? 'changed' : '-',
              [...t.inputs.added.map((x) => `+${x}`), ...t.inputs.removed.map((x) => `-${x}`)].join(', ') || '-',
              [...t.outputs.added.map((x) => `+${x}`), ...t.outputs.removed.map((x) => `-${x}`)].join(', ') || '-',
              t.policy ? 'changed' : '-'
            ])
          )
        );
        return;
      }
      const list = await client.call(apiRoutes.listVersions, { params: { name: workflow } });
      if (opts.json) return out(JSON.stringify(list, null, 2));
      out(
        table(
          ['VERSION', 'HASH', 'PROMOTED', 'TASKS'],
          list.versions.map((v) => [String(v.number), v.version.slice(0, 19), v.promotedAt.replace('T', ' ').slice(0, 19), v.tasks.join(', ')])
        )
      );
    });
}
