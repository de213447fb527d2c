/**
 * Runs kernel-lib's runner in a child Node process, on these TypeScript sources.
 *
 * Why a child: jest runs tests in a vm context, while the runner evaluates task modules
 * with vm.runInThisContext and Node's own require, i.e. in the main context. Objects made
 * by task code would then come from another realm (their Object.prototype and Map are not
 * the test's), which never happens in a real task process. A child process is what the
 * executors use too.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JsonValue, TaskInvocation, TaskResult, attemptKey, taskModuleKey } from '@cellgraph/schema';
import { FsStore } from './fs-store';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

/**
 * Loads .ts files by transpiling them (as ts-jest does), and maps the workspace packages
 * to their sources (as jest's moduleNameMapper does) so task code's
 * `require("@cellgraph/kernel")` is the very copy the runner uses.
 */
const BOOTSTRAP = `
const Module = require('node:module');
const fs = require('node:fs');
const ts = require(${JSON.stringify(require.resolve('typescript'))});
Module._extensions['.ts'] = function (m, filename) {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, isolatedModules: true }
  }).outputText;
  m._compile(out, filename);
};
const alias = {
  '@cellgraph/kernel': ${JSON.stringify(path.join(REPO, 'kernel-lib', 'src', 'index.ts'))},
  '@cellgraph/schema': ${JSON.stringify(path.join(REPO, 'schema', 'src', 'index.ts'))}
};
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, Object.prototype.hasOwnProperty.call(alias, request) ? alias[request] : request, ...rest);
};
require(${JSON.stringify(path.join(__dirname, 'child-driver.ts'))});
`;

export interface ChildOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runChild(cwd: string, env: Record<string, string>): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', BOOTSTRAP], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A temporary project: a notebook directory (packages resolvable from it) and a filesystem store. */
export class Sandbox {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-kernel-runner-'));
  readonly store = new FsStore(path.join(this.root, 'store'));
  private attempts = 0;

  /** A directory a task can run in, with the repository's node_modules linked into it. */
  workDir(name = 'notebook'): string {
    const dir = path.join(this.root, name);
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    }
    return dir;
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /**
   * Runs one attempt of a task module as the executors do: the module is filed in the store
   * under its workflow version, the invocation (checked against the schema) goes to a task
   * process, and the result comes back through the store.
   */
  async runTask(
    moduleSource: string,
    options: { task?: string; inputs?: TaskInvocation['inputs']; outputTypes?: Record<string, string>; params?: Record<string, JsonValue>; workDir?: string } = {}
  ): Promise<{ result: TaskResult & { attemptDir: string }; invocation: TaskInvocation; child: ChildOutput }> {
    const task = options.task ?? 'task';
    const workflowVersion = `sha256:${'ab'.repeat(32)}`;
    this.store.putFile(taskModuleKey(workflowVersion, task), moduleSource);
    const invocation = TaskInvocation.parse({
      runId: 'r-test-1',
      task,
      attempt: ++this.attempts,
      workflowVersion,
      workDir: options.workDir ?? this.workDir(),
      inputs: options.inputs ?? {},
      outputTypes: options.outputTypes ?? {},
      params: options.params ?? {},
      store: { kind: 'filesystem', root: this.store.root }
    } satisfies TaskInvocation);
    const child = await runChild(invocation.workDir, { CG_TEST_INVOCATION: JSON.stringify(invocation) });
    if (child.code !== 0) throw new Error(`task process exited ${child.code}:\n${child.stderr}`);
    const raw = JSON.parse(this.store.getFile(attemptKey(invocation.runId, task, invocation.attempt, 'result.json')).toString('utf8')) as { attemptDir: string };
    // What the runner reports must be a TaskResult as the server parses it.
    const result = { ...TaskResult.parse(raw), attemptDir: raw.attemptDir };
    return { result, invocation, child };
  }

  /** Evaluates only a task module's condition (evaluateCondition) in a task process. */
  async evaluateCondition(moduleSource: string, options: { inputs?: TaskInvocation['inputs']; params?: Record<string, JsonValue> } = {}): Promise<{ held: boolean } | { error: string }> {
    const workflowVersion = `sha256:${'cd'.repeat(32)}`;
    this.store.putFile(taskModuleKey(workflowVersion, 'gated'), moduleSource);
    const invocation = TaskInvocation.parse({
      runId: 'r-test-1',
      task: 'gated',
      attempt: ++this.attempts,
      workflowVersion,
      workDir: this.workDir(),
      inputs: options.inputs ?? {},
      outputTypes: {},
      params: options.params ?? {},
      store: { kind: 'filesystem', root: this.store.root }
    } satisfies TaskInvocation);
    const resultFile = path.join(this.root, `condition-${this.attempts}.json`);
    const child = await runChild(invocation.workDir, { CG_TEST_CONDITION: JSON.stringify(invocation), CG_TEST_RESULT_FILE: resultFile });
    if (child.code !== 0) throw new Error(`condition process exited ${child.code}:\n${child.stderr}`);
    return JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  }

  /** Evaluates a parameters module with runParamsModule in a task process. */
  async runParams(
    moduleSource: string,
    overrides: Record<string, JsonValue>
  ): Promise<{ ok: true; values: Record<string, JsonValue> } | { ok: false; name: string; param?: string; message: string }> {
    const workDir = this.workDir();
    const resultFile = path.join(this.root, `params-${++this.attempts}.json`);
    const child = await runChild(workDir, { CG_TEST_PARAMS: JSON.stringify({ workDir, moduleSource, overrides }), CG_TEST_RESULT_FILE: resultFile });
    if (child.code !== 0) throw new Error(`params process exited ${child.code}:\n${child.stderr}`);
    return JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  }
}
