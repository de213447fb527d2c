import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { cacheDir } from '../cache-dir';
import { readNotebook } from '../notebook-input';
import { EXIT_FAILED, err, out } from '../output';

/**
 * `cellgraph daemon prepare [NOTEBOOK...]`: builds the compile daemon's startup snapshot now
 * (docs/cli-speed.md), in the foreground, so the first compile after setup starts the
 * daemon from it instead of truly cold. It starts no daemon and leaves no process behind
 * (setup runs it, CI included); an existing snapshot of this build is kept unless `--force`.
 */
export function registerDaemon(program: Command): void {
  const daemon = program.command('daemon').description("the CLI's compile daemon (docs/cli-speed.md)");
  daemon
    .command('prepare')
    .description("build the compile daemon's startup snapshot now, with each NOTEBOOK compiled in it (the first one's project's declarations); starts no daemon")
    .argument('[notebooks...]', 'notebooks the snapshot prepares (default: the current folder\'s declarations, nothing compiled)')
    .option('--force', 'build it again even when this build already has one')
    .action(async (files: string[], opts: { force?: boolean }) => {
      const { daemonDisabled, snapshotFile } = await import('../../compiler/daemon/protocol');
      if (daemonDisabled()) return out('the compile daemon is switched off (CELLGRAPH_COMPILE_DAEMON): nothing to prepare');
      const nbs = files.map(readNotebook);
      const blob = snapshotFile(cacheDir('v8'));
      if (!opts.force && fs.existsSync(blob)) return out(`compile daemon snapshot ready: ${blob}`);
      const { buildSnapshot } = await import('../../compiler/daemon/snapshot');
      const notebooks = nbs.map((nb) => ({ path: nb.absolutePath, text: nb.text }));
      const content = { notebookDir: nbs.length > 0 ? path.dirname(nbs[0].absolutePath) : process.cwd(), notebooks, prepared: true };
      if (await buildSnapshot(blob, content, err)) out(`compile daemon snapshot ready: ${blob}`);
      else process.exitCode = EXIT_FAILED;
    });
}
