/**
 * Runs in a child process (see task-process.ts), as the server's task entry does: reads a
 * TaskInvocation from the environment, the task module from the store, runs it with
 * runTask and files the result in the store; or evaluates a parameters module.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TaskInvocation, attemptKey, taskModuleKey } from '@cellgraph/schema';
import { evaluateCondition, runParamsModule, runTask } from '../../runner/run-task';
import { FsStore } from './fs-store';

async function runAttempt(raw: string): Promise<void> {
  const inv = TaskInvocation.parse(JSON.parse(raw));
  if (inv.store.kind !== 'filesystem') throw new Error('only the filesystem store is supported here');
  const store = new FsStore(inv.store.root);
  const moduleSource = store.getFile(taskModuleKey(inv.workflowVersion, inv.task)).toString('utf8');
  const attemptDir = fs.mkdtempSync(path.join(os.tmpdir(), `cg-kernel-attempt-${inv.task}-`));
  try {
    const result = await runTask({
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
    store.putFile(attemptKey(inv.runId, inv.task, inv.attempt, 'result.json'), JSON.stringify({ ...result, attemptDir }));
  } finally {
    fs.rmSync(attemptDir, { recursive: true, force: true });
  }
}

async function checkParams(raw: string, resultFile: string): Promise<void> {
  const req = JSON.parse(raw) as { workDir: string; moduleSource: string; overrides: Record<string, never> };
  let answer: unknown;
  try {
    answer = { ok: true, values: await runParamsModule({ ...req, filename: path.join(req.workDir, 'parameters.cellgraph-params.js') }) };
  } catch (err) {
    const e = err as Error & { param?: string };
    answer = { ok: false, name: e.name, param: e.param, message: e.message };
  }
  fs.writeFileSync(resultFile, JSON.stringify(answer));
}

/** Evaluates only the task's condition (evaluateCondition) and writes `{ held }` or `{ error }`. */
async function checkCondition(raw: string, resultFile: string): Promise<void> {
  const inv = TaskInvocation.parse(JSON.parse(raw));
  if (inv.store.kind !== 'filesystem') throw new Error('only the filesystem store is supported here');
  const store = new FsStore(inv.store.root);
  const attemptDir = fs.mkdtempSync(path.join(os.tmpdir(), `cg-kernel-condition-${inv.task}-`));
  let answer: unknown;
  try {
    const held = await evaluateCondition({
      moduleSource: store.getFile(taskModuleKey(inv.workflowVersion, inv.task)).toString('utf8'),
      filename: path.join(inv.workDir, `${inv.task}.cellgraph-task.js`),
      workDir: inv.workDir,
      params: inv.params,
      inputs: inv.inputs,
      io: store,
      info: { runId: inv.runId, task: inv.task, attempt: inv.attempt },
      attemptDir
    });
    answer = { held };
  } catch (err) {
    answer = { error: (err as Error).message };
  } finally {
    fs.rmSync(attemptDir, { recursive: true, force: true });
  }
  fs.writeFileSync(resultFile, JSON.stringify(answer));
}

async function main(): Promise<void> {
  const { CG_TEST_INVOCATION, CG_TEST_CONDITION, CG_TEST_PARAMS, CG_TEST_RESULT_FILE } = process.env;
  if (CG_TEST_CONDITION !== undefined && CG_TEST_RESULT_FILE !== undefined) return checkCondition(CG_TEST_CONDITION, CG_TEST_RESULT_FILE);
  if (CG_TEST_INVOCATION !== undefined) return runAttempt(CG_TEST_INVOCATION);
  if (CG_TEST_PARAMS !== undefined && CG_TEST_RESULT_FILE !== undefined) return checkParams(CG_TEST_PARAMS, CG_TEST_RESULT_FILE);
  throw new Error('set CG_TEST_INVOCATION, or CG_TEST_PARAMS and CG_TEST_RESULT_FILE');
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`child driver failed: ${err.stack ?? err.message}\n`);
    process.exit(2);
  }
);
