import type { Command } from 'commander';
import * as path from 'node:path';
import { buildServerImage, manifestsJson, manifestsYaml, parseDeployOptions, renderManifests } from '../../deploy';
import { DEFAULT_BASE_IMAGE } from '../../images';
import { FilesystemStore } from '../../stores';
import { HOME_DIR_NAME } from '../../runtime/home';
import { err, formatDuration, out } from '../output';
import { printBuildEvent } from './build';

/**
 * `cellgraph deploy`: the production server on Kubernetes. `render` prints the manifests
 * (docs/deploy.md explains each object); bad flags exit 2 naming the flag.
 */
export function registerDeploy(program: Command): void {
  const deploy = program.command('deploy').description('deploy the cellgraph server on Kubernetes: render its manifests, build its image');
  deploy
    .command('render')
    .description('print the Kubernetes manifests of the server (YAML, or a v1 List with --json) for kubectl apply -f -')
    .requiredOption('--image <ref>', "the server's image (cellgraph deploy image prints it)")
    .requiredOption('--store <s3url>', 's3://bucket[/prefix]: artifacts shared by the replicas and task pods')
    .requiredOption('--database-secret <name[:key]>', 'Secret holding the PostgreSQL URL the replicas share (key default: url)')
    .requiredOption('--token-secret <name[:key]>', "Secret holding the server's API token (key default: token)")
    .option('--namespace <ns>', "namespace of the server's objects", 'cellgraph')
    .option('--replicas <n>', 'server replicas', '2')
    .option('--s3-secret <name>', 'Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (omit with workload identity)')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (MinIO and the like)')
    .option('--run-namespace <ns>', "namespace task pods run in (default: the server's)")
    .option('--workflow-repo <repository>', 'registry repository the server pushes workflow images to')
    .option('--workflow-base <image>', 'base image of workflow images (default node:24-bookworm-slim)')
    .option('--json', 'print a v1 List as JSON instead of YAML')
    .action((flags: Record<string, unknown>) => {
      const options = parseDeployOptions(flags);
      const manifests = renderManifests(options);
      out(options.json ? manifestsJson(manifests) : manifestsYaml(manifests));
    });
  deploy
    .command('image')
    .description("build the server's own image without a daemon and push it (prints the reference for deploy render --image)")
    .requiredOption('--push <repository>', 'registry repository, e.g. registry.example.com/cellgraph/server[:tag]')
    .option('--base <image>', 'base image with Node', DEFAULT_BASE_IMAGE)
    .option('--insecure', 'talk plain HTTP to the registries (always so for localhost)')
    .option('--home <dir>', `where built layers are cached (env CELLGRAPH_HOME; default ./${HOME_DIR_NAME})`)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: { push: string; base: string; insecure?: boolean; home?: string; json?: boolean }) => {
      const home = path.resolve(opts.home || process.env.CELLGRAPH_HOME || HOME_DIR_NAME);
      const t0 = performance.now();
      const result = await buildServerImage({ push: opts.push, base: opts.base, insecure: opts.insecure, store: new FilesystemStore(home), onEvent: printBuildEvent });
      err(`built in ${formatDuration(performance.now() - t0)}; uploaded ${(result.bytesUploaded / 1024 / 1024).toFixed(1)} MiB`);
      out(opts.json ? JSON.stringify(result, null, 2) : result.reference);
    });
}
