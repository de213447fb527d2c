import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { RunSummary } from '@cellgraph/schema';
import { ValidationError } from '../../errors';
import { parseParamAssignments } from '../../engine/params';
import { type HomeSession, type KubernetesSettings, databaseUrlFromEnv, openRuntime, storeConfigFor } from '../../runtime';
import { openStore } from '../../stores';
import { kubernetesOptions } from '../kubernetes-options';
import { compileForRunOrReport } from '../compile';
import { notebookHome, rememberHome } from '../homes';
import { readNotebook } from '../notebook-input';
import { EXIT_FAILED, EXIT_INTERRUPTED, err, formatDuration, out, table } from '../output';
import { logPrinter, progressPrinter } from '../progress';
import { projectOption, remoteClient, remoteRun, runExitCode } from '../remote/remote';

interface RunOptions extends KubernetesSettings {
  param: string[];
  cache: boolean;
  json?: boolean;
  concurrency?: string;
  home?: string;
  executor: string;
  logs?: boolean;
}

/** `cellgraph run NOTEBOOK`: compile, validate parameters, run every task locally, summarize. */
export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('run a notebook as a workflow: each task in its own process, cached, with an executed copy of the notebook')
    .argument('<notebook>', 'path to the .ipynb file')
    .option('-p, --param <name=value>', 'set a parameter (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--no-cache', 'run every task even when a cached result exists')
    .option('--json', 'print the run summary as JSON on stdout')
    .option('--concurrency <n>', 'task attempts running at once (default: CPU count)')
    .option('--home <dir>', 'artifact store and state directory (default: .cellgraph next to the notebook; env CELLGRAPH_HOME)')
    .option('--executor <name>', 'where tasks run: local (child processes) or kubernetes (one pod per attempt)', 'local')
    .option('--logs', 'stream task output while the run goes on');
  kubernetesOptions(command).action(async (file: string, opts: RunOptions, cmd: Command) => {
    const client = remoteClient(cmd);
    if (client !== undefined) {
      const summary = await remoteRun(client, file, { ...opts, project: projectOption(cmd) });
      if (summary === null) {
        process.exitCode = EXIT_FAILED;
        return;
      }
      printSummary(summary, opts.json === true);
      process.exitCode = runExitCode(summary);
      return;
    }
    process.exitCode = await runCommand(file, opts);
  });
}

async function runCommand(file: string, opts: RunOptions): Promise<number> {
  // A run executed by this process would hold no lease in the shared database: server
  // replicas would take it for an orphan and run it too.
  if (databaseUrlFromEnv(process.env) !== undefined) {
    throw new ValidationError(
      'CELLGRAPH_DATABASE_URL is set: runs on the shared PostgreSQL state are executed by the servers; submit with --server URL, or unset it to run here against the home',
      'CELLGRAPH_DATABASE_URL'
    );
  }
  const nb = readNotebook(file);
  if (opts.executor !== 'local' && opts.executor !== 'kubernetes') {
    throw new ValidationError(`unknown executor ${JSON.stringify(opts.executor)}; available: local, kubernetes`, 'executor');
  }
  const concurrency = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new ValidationError(`--concurrency must be a positive integer, got ${JSON.stringify(opts.concurrency)}`);
  }
  const home = path.resolve(opts.home || process.env.CELLGRAPH_HOME || notebookHome(nb.absolutePath));
  // Compile before opening the home: a broken notebook leaves no state behind.
  const compiled = await compileForRunOrReport(nb, openStore(storeConfigFor(home)));
  if (!compiled.ir) return EXIT_FAILED;
  let ir = compiled.ir;
  const overrides = parseParamAssignments(ir.params, opts.param);
  // Loaded only when asked for: printing image builds is the Kubernetes executor's.
  const onImageEvent = opts.executor === 'kubernetes' ? (await import('./build')).printBuildEvent : undefined;
  const runtime = await openRuntime({ home, executor: opts.executor, concurrency, kubernetes: opts, onImageEvent });
  rememberHome(home);
  try {
    const { engine, executor } = runtime;
    ir = await runtime.prepare({ ir, notebookPath: nb.absolutePath, notebookText: nb.text });
    if (ir.image !== undefined) err(`image ${ir.image.reference}; ${runtime.where}`);
    const width = Math.max(...ir.tasks.map((t) => t.name.length));
    engine.onEvent(progressPrinter(width));
    if (opts.logs) engine.onLog(logPrinter(width));
    const handle = await engine.startRun({
      ir,
      notebookText: nb.text,
      notebookPath: nb.absolutePath,
      workDir: path.dirname(nb.absolutePath),
      params: overrides,
      noCache: !opts.cache
    });
    err(`run ${handle.runId}: workflow ${ir.name}, ${ir.tasks.length} tasks, executor ${executor.name}, home ${home}`);
    let interrupts = 0;
    const onSigint = () => {
      interrupts += 1;
      if (interrupts > 1) process.exit(EXIT_INTERRUPTED);
      err('cancelling (Ctrl-C again to quit at once)…');
      handle.cancel();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const summary = await handle.done.finally(() => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    });
    await copyExecutedNotebookHome(summary, runtime);
    printSummary(summary, opts.json === true);
    if (summary.status === 'cancelled') return EXIT_INTERRUPTED;
    return summary.status === 'succeeded' ? 0 : EXIT_FAILED;
  } finally {
    await runtime.close();
  }
}

/**
 * A run on a remote store (S3) leaves its executed notebook there under a store key; a
 * copy goes next to the home's other run files so the printed path opens in JupyterLab.
 */
async function copyExecutedNotebookHome(summary: RunSummary, session: HomeSession): Promise<void> {
  const key = summary.executedNotebook;
  if (key === undefined || path.isAbsolute(key)) return;
  const local = path.join(session.home, key);
  fs.mkdirSync(path.dirname(local), { recursive: true });
  fs.writeFileSync(local, await session.store.getFile(key));
  summary.executedNotebook = local;
}

/** Prints a run summary as local and remote `run` both do. */
export function printSummary(s: RunSummary, json: boolean): void {
  if (json) {
    out(JSON.stringify(s, null, 2));
    return;
  }
  err(`run ${s.runId} ${s.status} in ${formatDuration(s.durationMs)}`);
  out(
    table(
      ['TASK', 'STATUS', 'ATTEMPTS', 'TIME', 'OUTPUTS'],
      s.tasks.map((t) => [
        t.name,
        t.status,
        String(t.attempts),
        t.cached ? 'cached' : formatDuration(t.durationMs),
        t.outputs.map((o) => `${o.name}: ${o.type}`).join(', ')
      ])
    )
  );
  for (const t of s.tasks) {
    const metrics = Object.entries(t.metrics);
    if (metrics.length > 0) out(`metrics ${t.name}: ${metrics.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const e = t.elements;
    if (e) out(`elements ${t.name}: ${e.total} total, ${e.succeeded} succeeded, ${e.cached} cached, ${e.failed} failed${e.running + e.pending > 0 ? `, ${e.running} running, ${e.pending} pending` : ''}`);
    if (t.skipReason) out(`skipped ${t.name}: ${t.skipReason}`);
    if (t.error) out(`error ${t.name}: ${t.error}`);
  }
  if (s.executedNotebook) out(`executed notebook: ${s.executedNotebook}`);
}
