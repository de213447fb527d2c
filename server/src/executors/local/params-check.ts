import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PARAMS_CHECK_ENV, ParamsCheck, ParamsCheckAnswer, RESULT_FILE_ENV } from '../task-entry-protocol';
import { defaultTaskEntry } from './local-executor';
import { taskEnvironment } from './task-env';
import type { WarmProcess } from './warm-pool';

/**
 * Evaluates a workflow's parameters module in a child process (user code never runs in
 * the engine), so `param(name, schema, default)` constraints are checked before any task
 * starts. `warm`: a pre-started task process to run it in (its environment is `env`, the
 * same clean one), else one is started.
 */
export async function runParamsCheck(
  check: ParamsCheck,
  taskEntry: string = defaultTaskEntry(),
  options: { env?: Record<string, string>; warm?: WarmProcess } = {}
): Promise<ParamsCheckAnswer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellgraph-params-'));
  const resultFile = path.join(dir, 'answer.json');
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      options.warm?.assign({ kind: 'params', check: JSON.stringify(check), resultFile });
      const child =
        options.warm?.child ??
        spawn(process.execPath, [taskEntry], {
          cwd: check.workDir,
          // The parameters cell is user code: the same clean environment as a task.
          env: { ...(options.env ?? taskEnvironment({ serverEnv: process.env, store: check.store })), [PARAMS_CHECK_ENV]: JSON.stringify(check), [RESULT_FILE_ENV]: resultFile },
          stdio: ['ignore', 'pipe', 'pipe']
        });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, output }));
    });
    if (!fs.existsSync(resultFile)) {
      throw new Error(`the parameters cell could not be evaluated (exit code ${code}):\n${output.trim()}`);
    }
    return ParamsCheckAnswer.parse(JSON.parse(fs.readFileSync(resultFile, 'utf8')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
