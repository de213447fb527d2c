import * as path from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../../errors';
import { BuildEvent, DEFAULT_BASE_IMAGE, buildImage } from '../../images';
import { FilesystemStore } from '../../stores';
import { compileForRunOrReport } from '../compile';
import { notebookHome } from '../homes';
import { readNotebook } from '../notebook-input';
import { EXIT_FAILED, err, formatDuration, out } from '../output';

interface BuildOptions {
  push?: string;
  ociLayout?: string;
  base: string;
  insecure?: boolean;
  json?: boolean;
  home?: string;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 1)} MiB`;
const short = (digest: string) => digest.slice(0, 19);

/** Progress lines on stderr: what was resolved, built or reused, and what each blob cost. */
export function printBuildEvent(e: BuildEvent): void {
  switch (e.kind) {
    case 'base':
      err(`base ${e.reference} (${short(e.digest)})`);
      break;
    case 'layer':
      err(`layer ${e.name.padEnd(12)} ${short(e.digest)} ${mib(e.size).padStart(10)}  ${e.cached ? 'cached' : `built in ${formatDuration(e.ms)}`}`);
      break;
    case 'blob':
      if (e.status === 'uploading') err(`push  ${e.name.padEnd(12)} ${short(e.digest)} ${e.sent ? `${Math.round((100 * e.sent) / e.size)}%` : `uploading ${mib(e.size)}`}`);
      else err(`push  ${e.name.padEnd(12)} ${short(e.digest)} ${e.status}`);
      break;
    case 'manifest':
      err(`tag   ${e.reference}`);
      break;
    case 'unchanged':
      err('unchanged: the registry already has this exact image; nothing built or uploaded');
      break;
  }
}

/** `cellgraph build NOTEBOOK --push REPO`: the workflow's container image, built without a daemon. */
export function registerBuild(program: Command): void {
  program
    .command('build')
    .description("package a notebook's workflow into an OCI image (no Docker daemon) and push it, or write an OCI layout")
    .argument('<notebook>', 'path to the .ipynb file')
    .option('--push <repository>', 'registry repository to push to, e.g. 127.0.0.1:5000/team/iris[:tag]')
    .option('--oci-layout <dir>', 'write an OCI image layout to this directory instead of pushing')
    .option('--base <image>', 'base image with Node 20', DEFAULT_BASE_IMAGE)
    .option('--insecure', 'talk plain HTTP to the registries (always so for localhost)')
    .option('--json', 'print the result as JSON on stdout')
    .option('--home <dir>', 'where built layers are cached (default: .cellgraph next to the notebook)')
    .action(async (file: string, opts: BuildOptions) => {
      if (!opts.push === !opts.ociLayout) throw new ValidationError('give exactly one of --push <repository> and --oci-layout <dir>', 'push');
      const nb = readNotebook(file);
      const home = path.resolve(opts.home || process.env.CELLGRAPH_HOME || notebookHome(nb.absolutePath));
      const store = new FilesystemStore(home);
      const { ir } = await compileForRunOrReport(nb, store);
      if (!ir) {
        process.exitCode = EXIT_FAILED;
        return;
      }
      const t0 = performance.now();
      const result = await buildImage({
        ir,
        notebookPath: nb.absolutePath,
        notebookText: nb.text,
        push: opts.push,
        ociLayout: opts.ociLayout ? path.resolve(opts.ociLayout) : undefined,
        base: opts.base,
        insecure: opts.insecure,
        store,
        onEvent: printBuildEvent
      });
      err(`built in ${formatDuration(performance.now() - t0)}; uploaded ${mib(result.bytesUploaded)}`);
      out(opts.json ? JSON.stringify(result, null, 2) : result.reference);
    });
}
