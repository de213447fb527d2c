import type { Command } from 'commander';
import { compileOrReport } from '../compile';
import { readNotebook } from '../notebook-input';
import { EXIT_FAILED, out } from '../output';

/** `cellgraph validate NOTEBOOK`: exit 0, or 1 with every error listed. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a notebook compiles to a workflow: annotations, data flow, types; lists every error')
    .argument('<notebook>', 'path to the .ipynb file')
    .option('--json', 'print the diagnostics as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { ir, diagnostics } = await compileOrReport(readNotebook(file));
      if (opts.json) out(JSON.stringify({ ok: ir !== undefined, diagnostics }, null, 2));
      else if (ir) out(`${file}: ok — workflow ${ir.name}, ${ir.tasks.length} tasks, ${ir.edges.length} edges, ${ir.params.length} params`);
      if (!ir) process.exitCode = EXIT_FAILED;
    });
}
