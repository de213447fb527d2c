/**
 * Export to Argo Workflows: documents checked against Argo's published API models (the
 * `argo-workflows` SDK from PyPI, generated from Argo's OpenAPI spec, plus a strict walk
 * for unknown fields: scripts/validate-argo.py), the CLI's refusals, and the exported
 * templates' commands run the way Argo's executor would run them, against a real S3
 * server. There is no Argo controller here: scheduling of the DAG by Argo itself, its
 * retries and its pod GC are not exercised.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JsonValue, TaskResult, WorkflowIR, taskFinalResultKey } from '@cellgraph/schema';
import { compileNotebook } from '../../compiler';
import { TestS3Server, startS3Server } from '@cellgraph/dev/services/s3-server';
import { publishWorkflow } from '../../engine/workflow-files';
import { KubernetesTarget } from '../../executors/kubernetes/pod-spec';
import { openStore } from '../../stores';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ArgoDagTask, ArgoExportOptions, argoCronWorkflow, argoNames, argoWorkflow } from '../argo';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'server', 'dist', 'cli', 'main.js');
const TASK_ENTRY = path.join(ROOT, 'server', 'dist', 'executors', 'task-entry.js');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const digest = `sha256:${'c'.repeat(64)}`;
const image = { reference: `registry.example.com/team/iris:cg-1@${digest}`, digest };
let s3: TestS3Server;
let work: string;

beforeAll(async () => {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run "bash scripts/setup.sh"`);
  s3 = await startS3Server();
  await s3.createBucket('argo');
  // This process reaches S3 through the AWS SDK's usual chain: the environment.
  Object.assign(process.env, s3.env);
});
afterAll(async () => {
  await s3?.stop();
});
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-argo-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

function compile(file: string, text = fs.readFileSync(file, 'utf8')): WorkflowIR {
  const r = compileNotebook({ path: file, text });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.ir;
}

const example = (name: string) => compile(path.join(ROOT, 'examples', name, `${name}.ipynb`));

function options(extra: Partial<ArgoExportOptions> = {}, target: Record<string, unknown> = {}): ArgoExportOptions {
  return ArgoExportOptions.parse({
    image,
    store: { kind: 's3', bucket: 'argo', prefix: 'team', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true },
    target: KubernetesTarget.parse({ namespace: 'ml', ...target }),
    ...extra
  });
}

/** Runs scripts/validate-argo.py over documents; its output and exit code. */
function validate(...documents: unknown[]): { code: number; output: string } {
  const files = documents.map((d, i) => {
    const f = path.join(work, `doc-${i}.json`);
    fs.writeFileSync(f, JSON.stringify(d));
    return f;
  });
  const r = spawnSync(PYTHON, [path.join(ROOT, 'scripts', 'validate-argo.py'), ...files], { encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** The tasks a DAG task's `depends` names. */
function dependsOn(task: ArgoDagTask): string[] {
  return [...new Set([...(task.depends ?? '').matchAll(/([a-z0-9][a-z0-9-]*)\.(?:Succeeded|Failed|Errored|Skipped|Omitted|Daemoned)\b/g)].map((m) => m[1]))];
}

/** The DAG tasks of a Workflow, by name. */
function dagTasks(wf: ReturnType<typeof argoWorkflow>): Map<string, ArgoDagTask> {
  const dag = wf.spec.templates.find((t) => 'dag' in t);
  return new Map((dag && 'dag' in dag ? dag.dag.tasks : []).map((t) => [t.name, t]));
}

describe('documents', () => {
  it("hello and iris export to Workflows Argo's API models accept, with the IR's DAG", () => {
    const iris = example('iris');
    const wf = argoWorkflow(iris, options());
    const dag = wf.spec.templates.find((t) => 'dag' in t);
    const deps = Object.fromEntries((dag && 'dag' in dag ? dag.dag.tasks : []).map((t) => [t.name, dependsOn(t).sort()]));
    expect(deps).toEqual(Object.fromEntries(iris.tasks.map((t) => [t.name, [...t.upstream].sort()])));
    expect(wf.spec.arguments.parameters.map((p) => p.name).sort()).toEqual(iris.params.map((p) => p.name).sort());
    for (const t of wf.spec.templates) if ('container' in t) expect(t.container.image).toBe(`registry.example.com/team/iris@${digest}`);
    expect(validate(wf, argoWorkflow(example('hello'), options()))).toEqual({ code: 0, output: 'ok Workflow\nok Workflow\n' });
  });

  it('carries retries, timeouts, GPUs and secrets (by reference only), and keeps hostile task names distinct and valid', () => {
    const file = path.join(work, 'policy.ipynb');
    const text = notebookText([
      code('const a = 1;', { task: 'a_b', retries: 2, timeoutSeconds: 90, resources: { cpu: '500m', memory: '1Gi', gpu: 1 }, secrets: [{ env: 'DB_PASSWORD', secret: 'db', key: 'password' }] }),
      code('const b = a + 1;', { task: 'a-b' }),
      code('const c = b + 1;', { task: 'x'.repeat(60) })
    ]);
    fs.writeFileSync(file, text);
    const ir = compile(file, text);
    const wf = argoWorkflow(ir, options({}, { serviceAccountName: 'runner', imagePullSecrets: ['regcred'], tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }], secretEnv: [{ env: 'AWS_SECRET_ACCESS_KEY', secret: 's3', key: 'secret' }] }));
    const names = [...argoNames(ir).values()];
    expect(new Set(names).size).toBe(3);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    const first = wf.spec.templates.find((t) => 'container' in t && t.name === argoNames(ir).get('a_b'));
    expect(first).toMatchObject({ retryStrategy: { limit: '2', retryPolicy: 'OnFailure' }, activeDeadlineSeconds: '90', container: { resources: { limits: { 'nvidia.com/gpu': '1', memory: '1Gi' } } } });
    const text2 = JSON.stringify(wf);
    expect(text2).toContain('"secretKeyRef":{"name":"db","key":"password"}');
    expect(text2).not.toMatch(/password"?:\s*"[^{]/);
    expect(validate(wf)).toEqual({ code: 0, output: 'ok Workflow\n' });
  });

  it('a foreach task is one DAG task with withParam over its producer\'s element indices; the sweep example validates', () => {
    const sweep = example('sweep');
    const wf = argoWorkflow(sweep, options());
    const dag = wf.spec.templates.find((t) => 'dag' in t);
    const train = (dag && 'dag' in dag ? dag.dag.tasks : []).find((t) => t.name === 'train');
    expect(train && dependsOn(train)).toEqual(expect.arrayContaining(['configs', 'split']));
    expect(train).toMatchObject({ withParam: '{{tasks.configs.outputs.parameters.elements-configs}}' });
    expect(train?.continueOn).toBeUndefined();
    // The collect step files train's result; pick reads it there.
    expect(dagTasks(wf).get('train-collect')).toEqual({ name: 'train-collect', template: 'train-collect', depends: '(train.Succeeded || train.Skipped)' });
    expect(dependsOn(dagTasks(wf).get('pick') as ArgoDagTask)).toContain('train-collect');
    const producer = wf.spec.templates.find((t) => t.name === 'configs');
    expect(producer && 'container' in producer ? producer.outputs : undefined).toEqual({ parameters: [{ name: 'elements-configs', valueFrom: { path: '/tmp/cellgraph-elements-configs.json' } }] });
    const trainTemplate = wf.spec.templates.find((t) => t.name === 'train');
    const env = trainTemplate && 'container' in trainTemplate ? trainTemplate.container.env : [];
    expect(JSON.stringify(env)).toContain('\\"element\\":{{item}}');
    // publish's `when` is Argo's own, on its condition step's verdict.
    expect(dagTasks(wf).get('publish-when')).toEqual({ name: 'publish-when', template: 'publish-when', depends: 'pick.Succeeded' });
    expect(dagTasks(wf).get('publish')).toMatchObject({ depends: 'pick.Succeeded && publish-when.Succeeded', when: '{{tasks.publish-when.outputs.parameters.result}} == true' });
    const condition = wf.spec.templates.find((t) => t.name === 'publish-when');
    expect(condition && 'container' in condition ? condition.outputs : undefined).toEqual({ parameters: [{ name: 'result', valueFrom: { path: '/tmp/cellgraph-condition' } }] });
    expect(validate(wf)).toEqual({ code: 0, output: 'ok Workflow\n' });
  });

  it('maps each trigger rule to a depends expression: all-succeeded needs Succeeded, none-failed takes Skipped and Omitted too; a foreach list is always needed', () => {
    const file = path.join(work, 'rules.ipynb');
    const text = notebookText([
      code('const n = 5;', { task: 'load' }),
      code('const flag = "gated";', { task: 'gate', when: 'n > 3' }),
      code('const ids = [1, 2];', { task: 'make', when: 'n > 4' }),
      code('const strict = flag + "!";', { task: 'strict' }),
      code('const lenient = flag ?? "none";', { task: 'lenient', trigger: 'none-failed' }),
      code('const sq = id * id;', { task: 'square', foreach: 'ids', as: 'id', minSuccessRatio: 0.5, trigger: 'none-failed' }),
      code('const all = [strict, lenient, sq];', { task: 'join', trigger: 'none-failed' }),
      code('const sure = sq;', { task: 'sure' })
    ]);
    fs.writeFileSync(file, text);
    const wf = argoWorkflow(compile(file, text), options());
    const depends = Object.fromEntries([...dagTasks(wf).values()].map((t) => [t.name, t.depends]));
    expect(depends).toEqual({
      load: undefined,
      'gate-when': 'load.Succeeded',
      gate: 'load.Succeeded && gate-when.Succeeded',
      'make-when': 'load.Succeeded',
      make: 'load.Succeeded && make-when.Succeeded',
      strict: 'gate.Succeeded',
      lenient: '(gate.Succeeded || gate.Skipped || gate.Omitted)',
      // The list's producer must have succeeded even under none-failed.
      square: 'make.Succeeded',
      // The fan-out's end, Failed too (continueOn): the collect step applies the ratio.
      'square-collect': '(square.Succeeded || square.Skipped || square.Failed)',
      join: '(lenient.Succeeded || lenient.Skipped || lenient.Omitted) && (square-collect.Succeeded || square-collect.Skipped || square-collect.Omitted) && (strict.Succeeded || strict.Skipped || strict.Omitted)',
      sure: 'square-collect.Succeeded'
    });
    expect(dagTasks(wf).get('square')).toMatchObject({ withParam: '{{tasks.make.outputs.parameters.elements-ids}}', continueOn: { failed: true } });
    expect(validate(wf)).toEqual({ code: 0, output: 'ok Workflow\n' });
  });

  it("a foreach over a foreach task's output iterates the list its collect step filed", () => {
    const file = path.join(work, 'chain.ipynb');
    const text = notebookText([
      code('const ids = [1, 2];', { task: 'make' }),
      code('const pairs = [id, id];', { task: 'dup', foreach: 'ids', as: 'id' }),
      // p is one element of pairs: number[][] below dup, so number[] (issue 17).
      code('const shown: number = p.length;', { task: 'show', foreach: 'pairs', as: 'p' })
    ]);
    fs.writeFileSync(file, text);
    const ir = compile(file, text);
    expect(ir.tasks.find((t) => t.name === 'show')?.inputs).toEqual([{ name: 'p', type: 'number[]', from: 'dup', elementOf: 'pairs' }]);
    const wf = argoWorkflow(ir, options());
    expect(dagTasks(wf).get('show')).toMatchObject({ depends: 'dup-collect.Succeeded', withParam: '{{tasks.dup-collect.outputs.parameters.elements-pairs}}' });
    const outputsOf = (name: string) => {
      const t = wf.spec.templates.find((x) => x.name === name);
      return t && 'container' in t ? t.outputs : undefined;
    };
    // The fan-out's pods write no list: Argo would aggregate their parameters into a list of lists.
    expect(outputsOf('dup')).toBeUndefined();
    expect(outputsOf('dup-collect')).toEqual({ parameters: [{ name: 'elements-pairs', valueFrom: { path: '/tmp/cellgraph-elements-pairs.json' } }] });
    expect(validate(wf)).toEqual({ code: 0, output: 'ok Workflow\n' });
  });

  it('a CronWorkflow carries the schedule, time zone and concurrency policy', () => {
    const cron = argoCronWorkflow(example('hello'), options(), { schedule: '30 6 * * 1-5', timezone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 300 });
    expect(cron.spec).toMatchObject({ schedule: '30 6 * * 1-5', timezone: 'Europe/Berlin', concurrencyPolicy: 'Forbid' });
    expect(validate(cron)).toEqual({ code: 0, output: 'ok CronWorkflow\n' });
  });

  it('the validator is real: a misspelt field or a wrong type is refused with its path', () => {
    const wf = argoWorkflow(example('hello'), options()) as unknown as { spec: Record<string, unknown> };
    const misspelt = { ...wf, spec: { ...wf.spec, entrypointt: 'x' } };
    expect(validate(misspelt)).toMatchObject({ code: 1, output: expect.stringContaining('unknown field $.spec.entrypointt') });
    const wrongType = { ...wf, spec: { ...wf.spec, templates: [{ name: 'x', container: { image: 5 } }] } };
    expect(validate(wrongType).code).toBe(1);
  });
});

describe('cellgraph export argo', () => {
  function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
    return spawnSync(process.execPath, [CLI, 'export', 'argo', ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, ...s3.env, XDG_STATE_HOME: path.join(work, 'xdg'), CELLGRAPH_HOME: '', ...env } });
  }
  const s3env = () => ({ CELLGRAPH_STORE: 's3://argo/cli', CELLGRAPH_S3_ENDPOINT: s3.endpoint });

  it('writes a Workflow or CronWorkflow and publishes the workflow files to S3', async () => {
    const nb = path.join(ROOT, 'examples', 'hello', 'hello.ipynb');
    const r = cli(s3env(), nb, '--image', image.reference, '-p', 'name=Argo');
    expect(r.stderr).toMatch(/published workflow hello/);
    expect(r.status).toBe(0);
    const wf = JSON.parse(r.stdout) as ReturnType<typeof argoWorkflow>;
    expect(wf.kind).toBe('Workflow');
    expect(wf.spec.arguments.parameters.find((p) => p.name === 'name')?.value).toBe('"Argo"');
    const ir = example('hello');
    expect(await openStore({ kind: 's3', bucket: 'argo', prefix: 'cli', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true }).hasFile(`workflows/${ir.version.slice(7)}/ir.json`)).toBe(true);
    const out = path.join(work, 'cron.json');
    const c = cli(s3env(), nb, '--image', image.reference, '--cron', '0 6 * * *', '--timezone', 'America/New_York', '--concurrency', 'Replace', '-o', out);
    expect(c.status).toBe(0);
    expect(validate(JSON.parse(fs.readFileSync(out, 'utf8')))).toEqual({ code: 0, output: 'ok CronWorkflow\n' });
  });

  it('refuses bad input with exit 2 naming the flag', () => {
    const nb = path.join(ROOT, 'examples', 'hello', 'hello.ipynb');
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [[nb, '--image', 'registry.example.com/team/iris:latest'], s3env(), /--image/],
      [[nb, '--image', image.reference, '--cron', '61 * * * *'], s3env(), /cron/],
      [[nb, '--image', image.reference, '--cron', '0 6 * * *', '--timezone', 'Mars/Olympus'], s3env(), /timezone/],
      [[nb, '--image', image.reference, '--cron', '0 6 * * *', '--concurrency', 'Sometimes'], s3env(), /--concurrency/],
      [[nb, '--image', image.reference, '-p', 'excitement=loud'], s3env(), /excitement/],
      [[nb, '--image', image.reference], { CELLGRAPH_STORE: '' }, /CELLGRAPH_STORE/]
    ];
    for (const [args, env, message] of cases) {
      const r = cli(env, ...args);
      expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 2, stderr: expect.stringMatching(message) });
    }
  });
});

type Phase = 'Succeeded' | 'Failed' | 'Skipped' | 'Omitted';
type WorkflowPhase = 'Succeeded' | 'Failed';

/**
 * Runs an exported Workflow's DAG the way Argo's controller would, one step at a time in
 * document order (the IR's order is topological): `depends` evaluated over the phases so
 * far (false: Omitted), `when` after substituting output parameters (false: Skipped),
 * `withParam` expanded (an empty list: Skipped) with one process per `{{item}}`, output
 * parameters read from the files the pod wrote, and failFast (a failure without
 * `continueOn` starts nothing more). The workflow fails when a step without `continueOn`
 * failed. No Argo controller runs in these tests.
 */
async function simulateArgo(
  wf: ReturnType<typeof argoWorkflow>,
  dir: string,
  workflowName: string
): Promise<{ phases: Record<string, Phase>; codes: Record<string, number[]>; workflow: WorkflowPhase }> {
  let workflow: WorkflowPhase = 'Succeeded';
  const phases: Record<string, Phase> = {};
  const codes: Record<string, number[]> = {};
  const parameters = new Map<string, string>();
  const substitute = (value: string, item?: number) =>
    value
      .replace(/\{\{workflow\.name\}\}/g, workflowName)
      .replace(/\{\{retries\}\}/g, '0')
      .replace(/\{\{item\}\}/g, String(item))
      .replace(/\{\{workflow\.parameters\.([A-Za-z0-9_]+)\}\}/g, (_m, p: string) => wf.spec.arguments.parameters.find((x) => x.name === p)?.value ?? '')
      .replace(/\{\{(tasks\.[^}]+)\}\}/g, (m, ref: string) => {
        const v = parameters.get(ref);
        if (v === undefined) throw new Error(`Argo could not resolve ${m}`);
        return v;
      });
  const holds = (depends: string): boolean => {
    const logic = depends.replace(/([a-z0-9][a-z0-9-]*)\.(Succeeded|Failed|Errored|Skipped|Omitted|Daemoned)\b/g, (_m, task: string, result: string) => {
      if (phases[task] === undefined) throw new Error(`depends names ${task}, which has not finished`);
      return String(phases[task] === result);
    });
    if (!/^[truefals()&|! ]*$/.test(logic)) throw new Error(`not a depends expression: ${depends}`);
    return Boolean(new Function(`return ${logic};`)());
  };
  for (const step of dagTasks(wf).values()) {
    if (step.depends !== undefined && !holds(step.depends)) {
      phases[step.name] = 'Omitted';
      continue;
    }
    if (step.when !== undefined) {
      const when = substitute(step.when);
      expect(when).toMatch(/^(true|false) == true$/);
      if (when.startsWith('false')) {
        phases[step.name] = 'Skipped';
        continue;
      }
    }
    const template = wf.spec.templates.find((t) => t.name === step.template);
    if (!template || !('container' in template)) throw new Error(`no container template ${step.template}`);
    const items: (number | undefined)[] = step.withParam !== undefined ? (JSON.parse(substitute(step.withParam)) as number[]) : [undefined];
    if (items.length === 0) {
      phases[step.name] = 'Skipped';
      continue;
    }
    // Each pod has its own /tmp: no output file of an earlier step may be read as this one's.
    for (const out of template.outputs?.parameters ?? []) fs.rmSync(out.valueFrom.path, { force: true });
    codes[step.name] = [];
    for (const item of items) {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...s3.env };
      for (const e of template.container.env) if ('value' in e) env[e.name] = substitute(e.value, item);
      codes[step.name].push(await new Promise<number>((resolve) => spawn(process.execPath, [TASK_ENTRY], { cwd: dir, env, stdio: 'ignore' }).on('close', (c) => resolve(c ?? -1))));
    }
    for (const out of template.outputs?.parameters ?? []) parameters.set(`tasks.${step.name}.outputs.parameters.${out.name}`, fs.readFileSync(out.valueFrom.path, 'utf8'));
    phases[step.name] = codes[step.name].every((c) => c === 0) ? 'Succeeded' : 'Failed';
    if (phases[step.name] === 'Failed' && step.continueOn?.failed !== true) {
      workflow = 'Failed';
      break;
    }
  }
  return { phases, codes, workflow };
}

describe('argo mode of the task entry', () => {
  /** A project directory standing in for the image's work directory. */
  function projectDir(name: string): { dir: string; file: string } {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    return { dir, file: path.join(dir, `${name}.ipynb`) };
  }

  /** Compiles and publishes a notebook to the test bucket; runs its exported Workflow as Argo would, once per set of parameter values. */
  async function exported(name: string, cells: Parameters<typeof notebookText>[0]) {
    const { dir, file } = projectDir(name);
    const text = notebookText(cells);
    fs.writeFileSync(file, text);
    const ir = compile(file, text);
    const store = openStore(options().store);
    await publishWorkflow(store, ir, text);
    let runs = 0;
    return {
      ir,
      store,
      run: async (params: Record<string, JsonValue> = {}) => {
        const wf = argoWorkflow(ir, options({ workDir: dir, params }));
        expect(validate(wf)).toEqual({ code: 0, output: 'ok Workflow\n' });
        const runId = `${name}-r${(runs += 1)}`;
        const sim = await simulateArgo(wf, dir, runId);
        const final = async (task: string, element?: number) => {
          const key = taskFinalResultKey(runId, task, element);
          return (await store.hasFile(key)) ? TaskResult.parse(JSON.parse((await store.getFile(key)).toString('utf8'))) : undefined;
        };
        const value = async (task: string, output: string) => {
          const ref = (await final(task))?.outputs.find((o) => o.name === output);
          if (ref === undefined) throw new Error(`${task} has no output ${output} in ${runId}`);
          return JSON.parse((await store.getBlob({ hash: ref.hash })).toString('utf8')) as unknown;
        };
        return { ...sim, final, value };
      }
    };
  }

  it("runs the exported templates' commands the way Argo's executor would (no Argo controller in tests): values flow through S3", async () => {
    const nb = await exported('flow', [
      code('const factor = 3;', { role: 'parameters' }),
      code('const base = [1, 2, 3];', { task: 'load' }),
      code('const scaled = base.map((x) => x * factor);\nconsole.log(scaled.join(","));', { task: 'scale', retries: 1 }),
      code('const total = scaled.reduce((a, b) => a + b, 0);', { task: 'sum' })
    ]);
    const run = await nb.run({ factor: 10 });
    expect(run.phases).toEqual({ load: 'Succeeded', scale: 'Succeeded', sum: 'Succeeded' });
    expect((await run.final('sum'))?.status).toBe('succeeded');
    expect(await run.value('sum', 'total')).toBe(60);
  });

  it("runs a foreach over a foreach task's list of lists the way Argo would: each element a list, in element order (issue 17)", async () => {
    const nb = await exported('nested', [
      code('const ids: number[] = [3, 1, 2];', { task: 'make' }),
      code('const pairs = Array.from({ length: id }, (_, k) => id * 10 + k);', { task: 'dup', foreach: 'ids', as: 'id' }),
      code('const n: number = p.length;\nconst head: number = p[0];', { task: 'count', foreach: 'pairs', as: 'p' }),
      code('const lengths: string = n.join(",");', { task: 'sum' })
    ]);
    const run = await nb.run();
    expect(run.phases).toEqual({ make: 'Succeeded', dup: 'Succeeded', 'dup-collect': 'Succeeded', count: 'Succeeded', 'count-collect': 'Succeeded', sum: 'Succeeded' });
    expect(run.codes.count).toEqual([0, 0, 0]);
    expect(await run.value('dup', 'pairs')).toEqual([[30, 31, 32], [10], [20, 21]]);
    expect(await run.value('count', 'n')).toEqual([3, 1, 2]);
    expect(await run.value('count', 'head')).toEqual([30, 10, 20]);
    expect(await run.value('sum', 'lengths')).toBe('3,1,2');
  });

  it('runs a foreach (one process per {{item}}), a tolerated element failure, and a false condition the way Argo would', async () => {
    const nb = await exported('dynamic', [
      code('const ids = [0, 1, 2, 3];', { task: 'make' }),
      code('if (id === 2) throw new Error("bad element");\nconst squared = id * id;', { task: 'square', foreach: 'ids', as: 'id', minSuccessRatio: 0.5 }),
      code('const total = squared.reduce((a, b) => a + (b ?? 0), 0);', { task: 'sum' }),
      code('const published = true;', { task: 'publish', when: 'total > 100' }),
      code('const after = published;', { task: 'announce' })
    ]);
    expect(dagTasks(argoWorkflow(nb.ir, options())).get('square')?.continueOn).toEqual({ failed: true });
    const run = await nb.run();
    expect(run.codes.square).toEqual([0, 0, 1, 0]);
    // Argo shows publish Skipped by its own `when`; announce (all-succeeded) Omitted.
    expect(run.phases).toEqual({ make: 'Succeeded', square: 'Failed', 'square-collect': 'Succeeded', sum: 'Succeeded', 'publish-when': 'Succeeded', publish: 'Skipped', announce: 'Omitted' });
    expect(run.workflow).toBe('Succeeded');
    expect(await run.value('sum', 'total')).toBe(0 + 1 + 9);
    expect((await run.final('publish'))?.status).toBe('skipped');
    expect(await run.final('announce')).toBeUndefined();
  });

  const rules = [
    code('const limit = 10;', { role: 'parameters' }),
    code('const n = 5;', { task: 'load' }),
    code('const flag = "gated";', { task: 'gate', when: 'n > limit' }),
    code('const strict = flag + "!";', { task: 'strict' }),
    code('const lenient = flag ?? "no flag";', { task: 'lenient', trigger: 'none-failed' }),
    code('const below = strict ?? "strict was skipped";', { task: 'below', trigger: 'none-failed' }),
    code('const last = below + "/" + lenient;', { task: 'last' })
  ];

  it('condition false: the task is Skipped by Argo, all-succeeded below it is Omitted, none-failed runs reading undefined (also below an Omitted task)', async () => {
    const run = await (await exported('rulesfalse', rules)).run();
    expect(run.phases).toEqual({ load: 'Succeeded', 'gate-when': 'Succeeded', gate: 'Skipped', strict: 'Omitted', lenient: 'Succeeded', below: 'Succeeded', last: 'Succeeded' });
    expect((await run.final('gate'))?.status).toBe('skipped');
    expect(await run.final('strict')).toBeUndefined();
    expect(await run.value('lenient', 'lenient')).toBe('no flag');
    expect(await run.value('last', 'last')).toBe('strict was skipped/no flag');
  });

  it('condition true: every trigger rule runs its task with the values', async () => {
    const run = await (await exported('rulestrue', rules)).run({ limit: 1 });
    expect(run.phases).toEqual({ load: 'Succeeded', 'gate-when': 'Succeeded', gate: 'Succeeded', strict: 'Succeeded', lenient: 'Succeeded', below: 'Succeeded', last: 'Succeeded' });
    expect(await run.value('last', 'last')).toBe('gated!/gated');
  });

  it('a foreach below a conditional task: iterates the list when the condition holds, is Omitted (and read as undefined by none-failed) when not', async () => {
    const nb = await exported('condforeach', [
      code('const minimum = 0;', { role: 'parameters' }),
      code('const ids = [1, 2, 3];', { task: 'load' }),
      code('const chosen = ids.map((i) => i * 10);', { task: 'pick', when: 'ids.length > minimum' }),
      code('const sq = c * c;', { task: 'square', foreach: 'chosen', as: 'c' }),
      code('const line = sq === undefined ? "nothing" : sq.join(",");', { task: 'report', trigger: 'none-failed' })
    ]);
    const held = await nb.run();
    expect(held.phases).toEqual({ load: 'Succeeded', 'pick-when': 'Succeeded', pick: 'Succeeded', square: 'Succeeded', 'square-collect': 'Succeeded', report: 'Succeeded' });
    expect(held.codes.square).toEqual([0, 0, 0]);
    expect(await held.value('report', 'line')).toBe('100,400,900');
    const notHeld = await nb.run({ minimum: 5 });
    expect(notHeld.phases).toEqual({ load: 'Succeeded', 'pick-when': 'Succeeded', pick: 'Skipped', square: 'Omitted', 'square-collect': 'Omitted', report: 'Succeeded' });
    expect(await notHeld.value('report', 'line')).toBe('nothing');
  });

  // Issue 17: the ratio fails the workflow exactly when the engine would fail the task, with or without a task below.
  const ratio = (leaf: boolean) => [
    code('const bad = 0;', { role: 'parameters' }),
    code('const ids = [0, 1, 2, 3];', { task: 'make' }),
    code('if (id < bad) throw new Error("bad element");\nconst squared = id * id;', { task: 'square', foreach: 'ids', as: 'id', minSuccessRatio: 0.5 }),
    ...(leaf ? [] : [code('const total = squared.reduce((a, b) => a + (b ?? 0), 0);', { task: 'sum' })])
  ];

  it.each([
    ['a leaf foreach task', true],
    ['a foreach task with a task below', false]
  ])('minSuccessRatio on %s: the workflow succeeds when enough elements succeed and fails when too many fail', async (_what, leaf) => {
    const nb = await exported(leaf ? 'ratioleaf' : 'ratiobelow', ratio(leaf));
    const below = leaf ? {} : { sum: 'Succeeded' };
    const enough = await nb.run({ bad: 2 });
    expect(enough.codes.square).toEqual([1, 1, 0, 0]);
    expect(enough).toMatchObject({ workflow: 'Succeeded', phases: { make: 'Succeeded', square: 'Failed', 'square-collect': 'Succeeded', ...below } });
    const collected = await enough.final('square');
    expect(collected?.status).toBe('succeeded');
    expect(collected?.outputs.map((o) => o.type)).toEqual(['number[]']);
    expect(await enough.value('square', 'squared')).toEqual([{ $cg: 'undef', v: null }, { $cg: 'undef', v: null }, 4, 9]);
    if (!leaf) expect(await enough.value('sum', 'total')).toBe(13);
    const tooMany = await nb.run({ bad: 3 });
    expect(tooMany.codes.square).toEqual([1, 1, 1, 0]);
    expect(tooMany.workflow).toBe('Failed');
    expect(tooMany.phases).toEqual({ make: 'Succeeded', square: 'Failed', 'square-collect': 'Failed' });
    expect(await tooMany.final('square')).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/^3 of 4 elements of foreach task square failed \(at most 2 may/) } });
    expect(await tooMany.final('sum')).toBeUndefined();
  });
});
