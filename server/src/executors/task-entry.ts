/**
 * The process every task attempt runs: `node task-entry.js`, with the invocation in the
 * environment. Locally it is a child of the engine; on Kubernetes it is the container's
 * command. It reads the generated task module from the store, runs it with kernel-lib's
 * runner (which reads inputs and writes outputs through the store), and files the result.
 *
 * Keep imports here minimal: every millisecond of start-up is paid once per task.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runParamsModule, runTask } from '@cellgraph/kernel';
import { TaskInvocation, TaskResult, attemptKey, paramsModuleKey, taskModuleKey } from '@cellgraph/schema';
import { openStore } from '../stores';
import { LogArchive } from './log-archive';
import { ARCHIVE_LOGS_ENV, INVOCATION_ENV, PARAMS_CHECK_ENV, ParamsCheck, ParamsCheckAnswer, RESULT_FILE_ENV } from './task-entry-protocol';

async function runAttempt(raw: string): Promise<number> {
  const inv = TaskInvocation.parse(JSON.parse(raw));
  const store = openStore(inv.store);
  const archive = process.env[ARCHIVE_LOGS_ENV] === '1' ? new LogArchive(store, attemptKey(inv.runId, inv.task, inv.attempt, 'log.txt')) : undefined;
  archive?.start();
  try {
    return await runAndFile(inv, store);
  } finally {
    await archive?.stop();
  }
}

async function runAndFile(inv: TaskInvocation, store: ReturnType<typeof openStore>): Promise<number> {
  const moduleSource = (await store.getFile(taskModuleKey(inv.workflowVersion, inv.task))).toString('utf8');
  const attemptDir = fs.mkdtempSync(path.join(os.tmpdir(), `cellgraph-${inv.task}-`));
  let result: TaskResult;
  try {
    result = await runTask({
      moduleSource,
      filename: path.join(inv.workDir, `${inv.task}.cellgraph-task.js`),
      workDir: inv.workDir,
      params: inv.params,
      inputs: inv.inputs,
      outputTypes: inv.outputTypes,
      io: store,
      info: { runId: inv.runId, task: inv.task, attempt: inv.attempt },
      attemptDir
    });
  } finally {
    fs.rmSync(attemptDir, { recursive: true, force: true });
  }
  await store.putFile(attemptKey(inv.runId, inv.task, inv.attempt, 'result.json'), JSON.stringify(result));
  return result.status === 'succeeded' ? 0 : 1;
}

async function checkParams(raw: string, resultFile: string): Promise<number> {
  const check = ParamsCheck.parse(JSON.parse(raw));
  const store = openStore(check.store);
  const moduleSource = (await store.getFile(paramsModuleKey(check.workflowVersion))).toString('utf8');
  let answer: ParamsCheckAnswer;
  try {
    const values = await runParamsModule({
      moduleSource,
      filename: path.join(check.workDir, 'parameters.cellgraph-params.js'),
      workDir: check.workDir,
      overrides: check.overrides
    });
    answer = { ok: true, values };
  } catch (err) {
    const e = err as Error & { param?: string };
    answer = { ok: false, name: e.param ?? '', message: e.message };
  }
  fs.writeFileSync(resultFile, JSON.stringify(answer));
  return 0;
}

async function main(): Promise<number> {
  const invocation = process.env[INVOCATION_ENV];
  if (invocation !== undefined) return runAttempt(invocation);
  const check = process.env[PARAMS_CHECK_ENV];
  const resultFile = process.env[RESULT_FILE_ENV];
  if (check !== undefined && resultFile !== undefined) return checkParams(check, resultFile);
  process.stderr.write(`cellgraph task entry: set ${INVOCATION_ENV} (or ${PARAMS_CHECK_ENV} and ${RESULT_FILE_ENV})\n`);
  return 2;
}

if (require.main === module) {
  // Exit explicitly once the result is filed: timers or sockets user code left open must
  // not keep a finished task alive (the notebook kernel would linger; a task must not).
  const exit = (code: number) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  main().then(exit, (err: Error) => {
    // The message goes last: on Kubernetes the tail of the output becomes the container's
    // termination message (terminationMessagePolicy FallbackToLogsOnError).
    process.stderr.write(`${err.stack ?? ''}\ncellgraph task entry failed: ${err.message}\n`);
    exit(2);
  });
}
