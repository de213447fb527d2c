import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../../errors';
import { parseParamAssignments } from '../../engine/params';
import { publishWorkflow } from '../../engine/workflow-files';
import { ArgoCronOptions, ArgoExportOptions, argoCronWorkflow, argoWorkflow } from '../../export/argo';
import { parseCron } from '../../scheduler/cron';
import { openStore } from '../../stores';
import { parseOrThrow } from '../../zod-issue';
import { compileForRunOrReport } from '../compile';
import { readKubernetesTarget, storeConfigFor } from '../../runtime';
import { notebookHome } from '../homes';
import { readNotebook } from '../notebook-input';
import { EXIT_FAILED, err, out } from '../output';

interface ExportOptions {
  image?: string;
  namespace?: string;
  kubeTarget?: string;
  param: string[];
  cron?: string;
  timezone: string;
  concurrency: string;
  startingDeadlineSeconds?: string;
  output?: string;
}

/** `host/repo[:tag]@sha256:<64 hex>` → the IR's ImageRef; anything else is refused naming --image. */
function imageRef(reference: string | undefined): { reference: string; digest: string } {
  const m = reference === undefined ? null : /^[^@\s]+@(sha256:[0-9a-f]{64})$/.exec(reference);
  if (reference === undefined || m === null) {
    throw new ValidationError('--image must name the workflow image by digest (host/repository[:tag]@sha256:…), as `cellgraph build --push` prints it', 'image');
  }
  return { reference, digest: m[1] };
}

/**
 * `cellgraph export argo NOTEBOOK --image REF@sha256:…`: the workflow as an Argo Workflows
 * `Workflow` (or `CronWorkflow` with --cron) in JSON, which `kubectl create -f` and
 * `argo submit` read. The workflow's files are published to the S3 store first, since the
 * pods read their code and inputs from there.
 */
export function registerExport(program: Command): void {
  const exportCommand = program.command('export').description('export a workflow for another orchestrator');
  exportCommand
    .command('argo')
    .description('write the workflow as an Argo Workflows Workflow (or CronWorkflow with --cron), JSON')
    .argument('<notebook>', 'path to the .ipynb file')
    .option('--image <reference>', 'the workflow image by digest, from `cellgraph build --push`')
    .option('--namespace <ns>', 'namespace of the Workflow and its pods (default: the target file, else default)')
    .option('--kube-target <file>', 'JSON target: serviceAccountName, imagePullSecrets, nodeSelector, tolerations, env, secretEnv (env CELLGRAPH_KUBE_TARGET)')
    .option('-p, --param <name=value>', 'a parameter value written into the workflow arguments (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--cron <expression>', '5-field cron: write a CronWorkflow')
    .option('--timezone <zone>', 'IANA time zone of --cron', 'UTC')
    .option('--concurrency <policy>', 'Allow, Forbid or Replace runs that overlap (--cron)', 'Allow')
    .option('--starting-deadline-seconds <s>', 'how late a missed --cron run may still start')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (file: string, opts: ExportOptions) => {
      const image = imageRef(opts.image);
      const nb = readNotebook(file);
      const home = path.resolve(process.env.CELLGRAPH_HOME || notebookHome(nb.absolutePath));
      const storeConfig = storeConfigFor(home);
      if (storeConfig.kind !== 's3') throw new ValidationError('Argo pods read values from S3: set CELLGRAPH_STORE=s3://bucket[/prefix] (and CELLGRAPH_S3_ENDPOINT for MinIO)', 'CELLGRAPH_STORE');
      const cron = opts.cron === undefined ? undefined : cronOptions(opts);
      const store = openStore(storeConfig);
      const { ir } = await compileForRunOrReport(nb, store);
      if (!ir) {
        process.exitCode = EXIT_FAILED;
        return;
      }
      const options = exportOptions(image, storeConfig, opts, parseParamAssignments(ir.params, opts.param));
      await publishWorkflow(store, ir, nb.text);
      err(`published workflow ${ir.name} ${ir.version} to s3://${storeConfig.bucket}/${storeConfig.prefix}`);
      const document = cron ? argoCronWorkflow(ir, options, cron) : argoWorkflow(ir, options);
      const text = `${JSON.stringify(document, null, 2)}\n`;
      if (opts.output) {
        fs.writeFileSync(opts.output, text);
        err(`wrote ${document.kind} to ${opts.output}`);
      } else {
        out(text.trimEnd());
      }
    });
}

function cronOptions(opts: ExportOptions): ArgoCronOptions {
  parseCron(opts.cron as string, opts.timezone);
  const flag = (path: string[]) => ({ concurrencyPolicy: 'concurrency', startingDeadlineSeconds: 'starting-deadline-seconds' })[path[0] ?? ''] ?? path.join('.');
  return parseOrThrow(ArgoCronOptions, {
    schedule: (opts.cron as string).trim().split(/\s+/).join(' '),
    timezone: opts.timezone,
    concurrencyPolicy: opts.concurrency,
    startingDeadlineSeconds: opts.startingDeadlineSeconds === undefined ? undefined : Number(opts.startingDeadlineSeconds)
  }, { field: flag, label: (path) => `--${flag(path)}` });
}

function exportOptions(image: { reference: string; digest: string }, store: ArgoExportOptions['store'], opts: ExportOptions, params: ArgoExportOptions['params']): ArgoExportOptions {
  const target = readKubernetesTarget(opts, 'default');
  return ArgoExportOptions.parse({ image, store, target, params });
}
