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
// Deep imports, not the packages' indexes: those load every schema (API, routes, schedules)
// and kernel-lib's HTTP client, ~25 ms of CPU in every task process for nothing it uses.
import { evaluateCondition, runParamsModule, runTask } from '@cellgraph/kernel/dist/runner/run-task';
import type { JsonValue } from '@cellgraph/schema/dist/notebook';
import type { ArtifactRef } from '@cellgraph/schema/dist/runs';
import type { TaskIR, WorkflowIR } from '@cellgraph/schema/dist/ir';
import { TaskInvocation, TaskResult, attemptKey, irKey, paramsModuleKey, taskFinalResultKey, taskModuleKey } from '@cellgraph/schema/dist/invocation';
import { openStore } from '../stores';
import { LogArchive } from './log-archive';
import { runElementBatch } from './element-batch';
import { ENCODED_UNDEFINED, joinEncodedList, splitEncodedList } from '../engine/encoded-list';
import {
  ARCHIVE_LOGS_ENV,
  ARGO_CONDITION_PATH,
  ARGO_TASK_ENV,
  ArgoTask,
  argoElementsPath,
  INVOCATION_ENV,
  PARAMS_CHECK_ENV,
  POOL_ENV,
  POOL_MARKERS_ENV,
  ParamsCheck,
  ParamsCheckAnswer,
  PoolAssignment,
  RESULT_FILE_ENV,
  withSecretNames
} from './task-entry-protocol';

async function runAttempt(raw: string): Promise<number> {
  const inv = TaskInvocation.parse(JSON.parse(raw));
  const store = openStore(inv.store);
  const archive = process.env[ARCHIVE_LOGS_ENV] === '1' ? new LogArchive(store, attemptKey(inv.runId, inv.task, inv.attempt, 'log.txt', inv.element)) : undefined;
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
      attemptDir,
      secretEnv: inv.secretEnv
    });
  } finally {
    removeScratch(attemptDir);
  }
  await store.putFile(attemptKey(inv.runId, inv.task, inv.attempt, 'result.json', inv.element), JSON.stringify(result));
  return result.status === 'failed' ? 1 : 0;
}

/** Removes an attempt's scratch directory: most are empty, and rmdir costs ~1 ms less than a recursive rm. */
function removeScratch(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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

/**
 * A task of a workflow run by Argo Workflows: resolves what the engine would have handed
 * over (parameters with defaults, upstream outputs from their final results), runs the
 * attempt as usual, and files this task's final result for the tasks downstream.
 */
async function runArgoTask(raw: string): Promise<number> {
  const argo = ArgoTask.parse(JSON.parse(raw));
  const store = openStore(argo.store);
  // Only Argo tasks read the IR: its schema loads when one does.
  const { WorkflowIR: irSchema } = require('@cellgraph/schema/dist/ir') as typeof import('@cellgraph/schema/dist/ir');
  const ir: WorkflowIR = irSchema.parse(JSON.parse((await store.getFile(irKey(argo.workflowVersion))).toString('utf8')));
  const task = ir.tasks.find((t) => t.name === argo.task);
  if (task === undefined) throw new Error(`workflow ${ir.name} ${ir.version} has no task ${argo.task}`);
  if (argo.collect === true) return collectElements(argo, task, store);
  const params = await runParamsModule({
    moduleSource: (await store.getFile(paramsModuleKey(argo.workflowVersion))).toString('utf8'),
    filename: path.join(argo.workDir, 'parameters.cellgraph-params.js'),
    workDir: argo.workDir,
    overrides: argo.params
  });
  const resolved = await argoInputs(argo, task, store);
  if (argo.condition === true) return decideCondition(argo, task, params, resolved, store);
  if (typeof resolved === 'string') {
    // Skipped because an upstream task was (trigger all-succeeded): filed so tasks below can tell.
    await writeElementLists(argo, await fileSkipped(argo, task, store, resolved), store);
    return 0;
  }
  const inputs = resolved;
  const invocation: TaskInvocation = {
    runId: argo.runId,
    task: task.name,
    attempt: argo.retry + 1,
    workflowVersion: argo.workflowVersion,
    workDir: argo.workDir,
    inputs,
    outputTypes: Object.fromEntries(task.outputs.map((o) => [o.name, o.type])),
    params,
    store: argo.store,
    ...(argo.element !== undefined ? { element: argo.element } : {})
  };
  const code = await runAttempt(JSON.stringify(withSecretNames(invocation, task.policy.secrets)));
  if (code === 0) {
    const result = await store.getFile(attemptKey(invocation.runId, invocation.task, invocation.attempt, 'result.json', argo.element));
    await store.putFile(taskFinalResultKey(invocation.runId, invocation.task, argo.element), result);
    await writeElementLists(argo, TaskResult.parse(JSON.parse(result.toString('utf8'))), store);
  }
  return code;
}

/**
 * An Argo condition step: evaluates the task's compiled condition over its inputs (as the
 * task's attempt would) and writes the verdict for Argo's `when`. When it is false the
 * task never gets a pod, so its `skipped` final result is filed here for the tasks below.
 */
async function decideCondition(
  argo: ArgoTask,
  task: TaskIR,
  params: Record<string, JsonValue>,
  resolved: Record<string, ArtifactRef> | string,
  store: ReturnType<typeof openStore>
): Promise<number> {
  if (task.when === undefined) throw new Error(`task ${task.name} has no condition to evaluate`);
  let held = false;
  if (typeof resolved !== 'string') {
    const attemptDir = fs.mkdtempSync(path.join(os.tmpdir(), `cellgraph-${task.name}-when-`));
    try {
      held = await evaluateCondition({
        moduleSource: (await store.getFile(taskModuleKey(argo.workflowVersion, task.name))).toString('utf8'),
        filename: path.join(argo.workDir, `${task.name}.cellgraph-task.js`),
        workDir: argo.workDir,
        params,
        inputs: resolved,
        io: store,
        info: { runId: argo.runId, task: task.name, attempt: 0 },
        attemptDir
      });
    } finally {
      fs.rmSync(attemptDir, { recursive: true, force: true });
    }
  }
  fs.writeFileSync(ARGO_CONDITION_PATH, held ? 'true' : 'false');
  if (held) process.stderr.write(`cellgraph: condition of task ${task.name} held: ${task.when}\n`);
  else await fileSkipped(argo, task, store, typeof resolved === 'string' ? resolved : `condition false: ${task.when}`);
  return 0;
}

/** Files a task's `skipped` final result, so the tasks below can tell (and says why in the pod's log). */
async function fileSkipped(argo: ArgoTask, task: TaskIR, store: ReturnType<typeof openStore>, reason: string): Promise<TaskResult> {
  const skipped: TaskResult = { status: 'skipped', outputs: [], metrics: {}, cells: [], startedAt: new Date().toISOString(), durationMs: 0 };
  await store.putFile(taskFinalResultKey(argo.runId, task.name, argo.element), JSON.stringify(skipped));
  process.stderr.write(`cellgraph: task ${task.name} skipped: ${reason}\n`);
  return skipped;
}

/**
 * The final results Argo's pods filed in a run: a task's own, or a foreach task's filed by
 * its collect step (a foreach element's under `element-<i>/`).
 */
function argoResults(runId: string, store: ReturnType<typeof openStore>) {
  const finalOf = async (name: string, element?: number): Promise<TaskResult | undefined> => {
    const key = taskFinalResultKey(runId, name, element);
    if (!(await store.hasFile(key))) return undefined;
    return TaskResult.parse(JSON.parse((await store.getFile(key)).toString('utf8')));
  };
  /** An upstream output `reader` needs, or `skipped` when its task was. */
  const output = async (from: string, name: string, reader: string): Promise<ArtifactRef | 'skipped'> => {
    const result = await finalOf(from);
    // No result: Argo ran no pod for it (its depends did not hold: omitted), and Argo's
    // depends let this task run all the same, so it stands for skipped (a failed task stops the workflow).
    if (result === undefined || result.status === 'skipped') return 'skipped';
    const ref = result.outputs.find((o) => o.name === name);
    if (ref === undefined) throw new Error(`task ${from} finished without its output ${name}, which ${reader} needs`);
    return { hash: ref.hash, size: ref.size };
  };
  return { finalOf, output };
}

/**
 * What the engine would have handed an Argo task: its upstream outputs from their final
 * results (a foreach task's as its collect step filed them, a foreach element's value cut
 * from its list), or why the task is skipped (an upstream task was, under `all-succeeded`).
 */
async function argoInputs(argo: ArgoTask, task: TaskIR, store: ReturnType<typeof openStore>): Promise<Record<string, ArtifactRef> | string> {
  const { finalOf, output } = argoResults(argo.runId, store);
  const allSucceeded = (task.trigger ?? 'all-succeeded') === 'all-succeeded';
  const inputs: Record<string, ArtifactRef> = {};
  for (const port of task.inputs) {
    if (port.elementOf !== undefined) {
      const list = await output(port.from, port.elementOf, task.name);
      if (list === 'skipped') return `the list ${port.elementOf} of task ${port.from} was skipped`;
      const elements = splitEncodedList(await store.getBlob(list), port.elementOf);
      const encoded = argo.element === undefined ? undefined : elements[argo.element];
      if (encoded === undefined) throw new Error(`foreach task ${task.name} has no element ${String(argo.element)} (its list has ${elements.length})`);
      inputs[port.name] = await store.putBlob(Buffer.from(encoded, 'utf8'));
      continue;
    }
    const ref = await output(port.from, port.name, task.name);
    if (ref !== 'skipped') inputs[port.name] = ref;
    else if (allSucceeded) return `upstream task ${port.from} was skipped`;
    else inputs[port.name] = await store.putBlob(Buffer.from(ENCODED_UNDEFINED, 'utf8'));
  }
  if (allSucceeded) {
    for (const up of task.upstream) if ((await finalOf(up))?.status !== 'succeeded') return `upstream task ${up} was skipped`;
  }
  return inputs;
}

/**
 * A foreach task's collect step in Argo: each output as the list of its elements' values
 * in element order (a failed element's `undefined`), filed as the task's final result,
 * as the engine collects them (engine/foreach.ts). Too few elements succeeded for the
 * task's `minSuccessRatio`: the task's `failed` result is filed and the step fails, so
 * Argo fails the workflow as the engine fails the run.
 */
async function collectElements(argo: ArgoTask, task: TaskIR, store: ReturnType<typeof openStore>): Promise<number> {
  const spec = task.foreach;
  if (spec === undefined) throw new Error(`task ${task.name} is not a foreach task: it has no elements to collect`);
  const { finalOf, output } = argoResults(argo.runId, store);
  const startedAt = new Date();
  const list = await output(spec.from, spec.over, task.name);
  if (list === 'skipped') {
    await writeElementLists(argo, await fileSkipped(argo, task, store, `the list ${spec.over} of task ${spec.from} was skipped`), store);
    return 0;
  }
  const n = splitEncodedList(await store.getBlob(list), spec.over).length;
  const elements: (TaskResult | undefined)[] = [];
  for (let i = 0; i < n; i++) elements.push(await finalOf(task.name, i));
  const failed = elements.filter((r) => r?.status !== 'succeeded').length;
  const allowed = Math.floor(n * (1 - spec.minSuccessRatio) + 1e-9);
  const base = { metrics: {}, cells: [], startedAt: startedAt.toISOString() };
  if (failed > allowed) {
    const first = elements.findIndex((r) => r?.status !== 'succeeded');
    const message = `${failed} of ${n} elements of foreach task ${task.name} failed (at most ${allowed} may, minSuccessRatio ${spec.minSuccessRatio}); the first is element ${first}`;
    const result: TaskResult = { ...base, status: 'failed', outputs: [], error: { name: 'Error', message, kind: 'error' }, durationMs: Date.now() - startedAt.getTime() };
    await store.putFile(taskFinalResultKey(argo.runId, task.name), JSON.stringify(result));
    process.stderr.write(`cellgraph: ${message}\n`);
    return 1;
  }
  const { listTypeText } = require('@cellgraph/schema/dist/ir') as typeof import('@cellgraph/schema/dist/ir');
  const outputs: TaskResult['outputs'] = [];
  for (const port of task.outputs) {
    const parts: string[] = [];
    for (const r of elements) {
      const ref = r?.outputs.find((o) => o.name === port.name);
      parts.push(ref === undefined ? ENCODED_UNDEFINED : (await store.getBlob(ref)).toString('utf8'));
    }
    outputs.push({ name: port.name, type: listTypeText(port.type), ...(await store.putBlob(joinEncodedList(parts))) });
  }
  const result: TaskResult = { ...base, status: 'succeeded', outputs, durationMs: Date.now() - startedAt.getTime() };
  await store.putFile(taskFinalResultKey(argo.runId, task.name), JSON.stringify(result));
  await writeElementLists(argo, result, store);
  process.stderr.write(`cellgraph: collected ${n - failed} of ${n} elements of foreach task ${task.name}\n`);
  return 0;
}

/** For withParam: the element indices of each list a foreach task iterates (none when this task was skipped). */
async function writeElementLists(argo: ArgoTask, result: TaskResult, store: ReturnType<typeof openStore>): Promise<void> {
  for (const list of argo.elementLists ?? []) {
    const ref = result.outputs.find((o) => o.name === list);
    const n = ref === undefined ? 0 : splitEncodedList(await store.getBlob(ref), list).length;
    fs.writeFileSync(argoElementsPath(list), JSON.stringify(Array.from({ length: n }, (_, i) => i)));
  }
}

/**
 * A warm process: everything above is loaded already; wait for the one assignment on
 * stdin. From then on stdin only tells whether the server lives: at its end (the server
 * exited or was killed) the process ends its whole group, so warm processes and what their
 * task started never outlive the server.
 */
function nextAssignment(): Promise<PoolAssignment> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let assigned = false;
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      if (assigned) return;
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      assigned = true;
      try {
        resolve(PoolAssignment.parse(JSON.parse(buffered.slice(0, end))));
      } catch (err) {
        reject(err);
      }
    });
    process.stdin.on('end', () => endGroup());
    process.stdin.on('error', () => endGroup());
  });
}

function endGroup(): void {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.exit(137);
  }
}

/** Runs a warm process's assignment as a cold process would run it from its environment (a batch of elements: one after another). */
async function runAssignment(assignment: PoolAssignment): Promise<number> {
  delete process.env[POOL_ENV];
  if (assignment.kind === 'params') {
    process.chdir(ParamsCheck.parse(JSON.parse(assignment.check)).workDir);
    return checkParams(assignment.check, assignment.resultFile);
  }
  Object.assign(process.env, assignment.env);
  const inv = TaskInvocation.parse(JSON.parse(assignment.invocation));
  process.chdir(inv.workDir);
  const markers = process.env[POOL_MARKERS_ENV];
  if (markers !== undefined && markers !== '') {
    const marker = path.join(markers, `${process.pid}.json`);
    fs.mkdirSync(markers, { recursive: true, mode: 0o700 });
    fs.writeFileSync(marker, JSON.stringify({ runId: inv.runId, task: inv.task }));
    process.on('exit', () => fs.rmSync(marker, { force: true }));
  }
  if (assignment.kind === 'elements') return runElementBatch(assignment.invocation, assignment.nonce, runAttempt);
  return runAttempt(assignment.invocation);
}

/**
 * Runs a no-op task through the runner once, in memory and before any assignment, so the
 * code every attempt runs (module loading, recording, encoding) is compiled by the time
 * the attempt arrives. It touches no store and prints nothing.
 */
async function warmUp(): Promise<void> {
  // The assignment's and invocation's parsers too: zod's code for them is compiled here, not
  // between the assignment's arrival and the task's start (~3 ms of the critical path).
  const invocation: TaskInvocation = {
    runId: 'warm-up',
    task: 'warm-up',
    attempt: 1,
    workflowVersion: `sha256:${'0'.repeat(64)}`,
    workDir: process.cwd(),
    inputs: { x: { hash: `sha256:${'0'.repeat(64)}`, size: 1 } },
    outputTypes: { warm: 'number' },
    params: { p: 1 },
    store: { kind: 'filesystem', root: os.tmpdir() }
  };
  const assignment = PoolAssignment.safeParse(JSON.parse(JSON.stringify({ kind: 'attempt', invocation: JSON.stringify(invocation), env: {} })));
  if (assignment.success && assignment.data.kind === 'attempt') TaskInvocation.safeParse(JSON.parse(assignment.data.invocation));
  const blobs = new Map<string, Buffer>();
  await runTask({
    moduleSource: 'module.exports = async function (__cg) { __cg.enterCell(0); return { warm: 1 }; };',
    filename: path.join(process.cwd(), 'warm-up.cellgraph-task.js'),
    workDir: process.cwd(),
    params: {},
    inputs: {},
    outputTypes: { warm: 'number' },
    io: {
      getBlob: async (ref) => blobs.get(ref.hash) ?? Buffer.alloc(0),
      putBlob: async (bytes) => {
        blobs.set('warm', bytes);
        return { hash: 'warm', size: bytes.length };
      }
    },
    info: { runId: 'warm-up', task: 'warm-up', attempt: 0 },
    attemptDir: os.tmpdir()
  });
}

/** Set once this process took its assignment as a warm process of the local executor (see endNow). */
let pooled = false;

async function main(): Promise<number> {
  if (process.env[POOL_ENV] === '1') {
    pooled = true;
    const assignment = nextAssignment();
    await warmUp().catch(() => undefined);
    return runAssignment(await assignment);
  }
  const invocation = process.env[INVOCATION_ENV];
  if (invocation !== undefined) return runAttempt(invocation);
  const argo = process.env[ARGO_TASK_ENV];
  if (argo !== undefined) return runArgoTask(argo);
  const check = process.env[PARAMS_CHECK_ENV];
  const resultFile = process.env[RESULT_FILE_ENV];
  if (check !== undefined && resultFile !== undefined) return checkParams(check, resultFile);
  process.stderr.write(`cellgraph task entry: set ${INVOCATION_ENV} (or ${PARAMS_CHECK_ENV} and ${RESULT_FILE_ENV})\n`);
  return 2;
}

/**
 * How a warm process ends once its result is filed and its output flushed: its exit
 * handlers run (the task's own too), then it SIGKILLs itself instead of Node's teardown of
 * the heap and the platform, which nobody waits for but the executor's `close` event did
 * (~13 ms of wall time per chain task, measured). The local executor reads the result, not
 * the exit code; a process that filed none (code 2) exits normally so its code is reported.
 */
function endNow(code: number): void {
  process.exitCode = code;
  process.emit('exit', code);
  process.kill(process.pid, 'SIGKILL');
}

/** Runs the process's one job and exits with its code (also the main of the start-up snapshot, see runner-snapshot.ts). */
export function start(): void {
  // Exit explicitly once the result is filed: timers or sockets user code left open must
  // not keep a finished task alive (the notebook kernel would linger; a task must not).
  const exit = (code: number) => process.stdout.write('', () => process.stderr.write('', () => (pooled && code !== 2 ? endNow(code) : process.exit(code))));
  main().then(exit, (err: Error) => {
    // The message goes last: on Kubernetes the tail of the output becomes the container's
    // termination message (terminationMessagePolicy FallbackToLogsOnError).
    process.stderr.write(`${err.stack ?? ''}\ncellgraph task entry failed: ${err.message}\n`);
    exit(2);
  });
}

if (require.main === module) start();
