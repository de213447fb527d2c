import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { cacheDir } from '../cache-dir';
import { readNotebook } from '../notebook-input';
import { EXIT_FAILED, err, out } from '../output';

/**
 * `cellgraph daemon prepare [NOTEBOOK]`: builds the compile daemon's startup snapshot now
 * (docs/cli-speed.md), in the foreground, so the first compile after setup starts the
 * daemon from it instead of truly cold. It starts no daemon and leaves no process behind
 * (setup runs it, CI included); an existing snapshot of this build is kept unless `--force`.
 */
export function registerDaemon(program: Command): void {
  const daemon = program.command('daemon').description("the CLI's compile daemon (docs/cli-speed.md)");
  daemon
    .command('prepare')
    .description("build the compile daemon's startup snapshot now, with NOTEBOOK compiled in it (its project's declarations); starts no daemon")
    .argument('[notebook]', 'a notebook whose project the snapshot prepares (default: the current folder, nothing compiled)')
    .option('--force', 'build it again even when this build already has one')
    .action(async (file: string | undefined, opts: { force?: boolean }) => {
      const { daemonDisabled, snapshotFile } = await import('../../compiler/daemon/protocol');
      if (daemonDisabled()) return out('the compile daemon is switched off (CELLGRAPH_COMPILE_DAEMON): nothing to prepare');
      const nb = file === undefined ? undefined : readNotebook(file);
      const blob = snapshotFile(cacheDir('v8'));
      if (!opts.force && fs.existsSync(blob)) return out(`compile daemon snapshot ready: ${blob}`);
      const { buildSnapshot } = await import('../../compiler/daemon/snapshot');
      const content = nb ? { notebookDir: path.dirname(nb.absolutePath), notebook: { path: nb.absolutePath, text: nb.text }, prepared: true } : { notebookDir: process.cwd(), prepared: true };
      if (await buildSnapshot(blob, content, err)) out(`compile daemon snapshot ready: ${blob}`);
      else process.exitCode = EXIT_FAILED;
    });
}
