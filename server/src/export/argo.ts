import { createHash } from 'node:crypto';
import { ImageRef, JsonValue, StoreConfig, TaskIR, WorkflowIR } from '@cellgraph/schema';
import { z } from 'zod';
import { KubernetesTarget, PodEnv, PodLabels, imageByDigest, labelValue, taskEnv, taskResources } from '../executors/kubernetes/pod-spec';
import { ARCHIVE_LOGS_ENV, ARGO_CONDITION_PATH, ARGO_TASK_ENV, argoElementsPath } from '../executors/task-entry-protocol';

/**
 * A workflow as Argo Workflows documents, for teams that already run Argo: one container
 * template per task (the workflow's image by digest, the task's resources, env, secrets by
 * reference, timeout, retries), a DAG template with the IR's dependencies, the
 * parameters as workflow arguments, and values passed through the S3 artifact store by
 * the task entry itself (Argo's own artifact passing is not used: cellgraph's values are
 * typed and content-addressed already). Pure functions; the CLI adds publishing.
 *
 * Argo mode has no cellgraph engine: no task cache, no executed notebook; each Argo
 * workflow is one run, named by Argo (`{{workflow.name}}`).
 *
 * Dynamic tasks (docs/dynamic-workflows.md): a foreach task is one DAG task with
 * `withParam` over an output parameter of the task producing its list (the element
 * indices, written by the task entry), one pod per element with `{{item}}`, followed by a
 * collect step (the same image: the task entry collects the elements' outputs, files the
 * task's final result and fails when fewer elements succeeded than `minSuccessRatio`
 * asks); the tasks below read the collect step's result. With `minSuccessRatio` < 1 the
 * fan-out gets `continueOn: {failed: true}`, so the collect step decides. A task with a
 * `when` condition gets a condition step before it (the same image: the task entry
 * evaluates the compiled, type-checked condition over the upstream outputs and writes
 * `true`/`false` to an output parameter) and Argo's own `when` on that parameter, so Argo
 * shows the task Skipped.
 * Trigger rules become Argo `depends` expressions ({@link argoDepends}).
 */

/** What an export needs besides the IR, validated at the CLI's edge. */
export const ArgoExportOptions = z
  .object({
    image: ImageRef,
    store: StoreConfig.refine((s) => s.kind === 's3', 'must be an S3 store: Argo pods cannot reach this machine’s filesystem'),
    target: KubernetesTarget,
    /** Parameter values replacing the notebook's defaults in the document (still overridable at submit). */
    params: z.record(JsonValue).default({}),
    /** Where the workflow's files are inside the image. */
    workDir: z.string().default('/app/work')
  })
  .strict();
export type ArgoExportOptions = z.infer<typeof ArgoExportOptions>;

/** A CronWorkflow's schedule, Argo's field names. */
export const ArgoCronOptions = z
  .object({
    schedule: z.string().min(1),
    timezone: z.string().min(1),
    concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).default('Allow'),
    startingDeadlineSeconds: z.number().int().min(0).optional()
  })
  .strict();
export type ArgoCronOptions = z.infer<typeof ArgoCronOptions>;

/** The subset of Argo's Workflow this export writes (argoproj.io/v1alpha1). */
export interface ArgoWorkflow {
  apiVersion: 'argoproj.io/v1alpha1';
  kind: 'Workflow';
  metadata: ArgoMetadata & { generateName: string };
  spec: ArgoWorkflowSpec;
}

/** The subset of Argo's CronWorkflow this export writes. */
export interface ArgoCronWorkflow {
  apiVersion: 'argoproj.io/v1alpha1';
  kind: 'CronWorkflow';
  metadata: ArgoMetadata & { name: string };
  spec: ArgoCronOptions & { workflowSpec: ArgoWorkflowSpec; workflowMetadata: { labels: Record<string, string> } };
}

interface ArgoMetadata {
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface ArgoContainerTemplate {
  name: string;
  metadata: { labels: Record<string, string> };
  outputs?: { parameters: { name: string; valueFrom: { path: string } }[] };
  retryStrategy?: { limit: string; retryPolicy: 'OnFailure'; backoff: { duration: string; factor: string; maxDuration: string } };
  activeDeadlineSeconds?: string;
  container: { image: string; env: PodEnv; resources: ReturnType<typeof taskResources> };
}

/** One task of the DAG template. */
export interface ArgoDagTask {
  name: string;
  template: string;
  /** Argo's enhanced depends: which results of which tasks let this one run. */
  depends?: string;
  when?: string;
  withParam?: string;
  continueOn?: { failed: boolean };
}

interface ArgoDagTemplate {
  name: string;
  dag: { tasks: ArgoDagTask[] };
}

interface ArgoWorkflowSpec {
  entrypoint: string;
  arguments: { parameters: { name: string; value: string; description: string }[] };
  podGC: { strategy: 'OnPodSuccess' | 'OnPodCompletion' | 'OnWorkflowSuccess' | 'OnWorkflowCompletion' };
  serviceAccountName?: string;
  imagePullSecrets?: { name: string }[];
  nodeSelector?: Record<string, string>;
  tolerations?: KubernetesTarget['tolerations'];
  templates: (ArgoDagTemplate | ArgoContainerTemplate)[];
}

const DAG_TEMPLATE = 'cellgraph-dag';

/**
 * Argo template and DAG task names from cellgraph task names (`[a-z][a-z0-9_-]*`): `_`
 * becomes `-` (Argo names are DNS-1123 labels), and a name that would then collide or run
 * long gets a short hash, so every task keeps a distinct, valid name.
 */
export function argoNames(ir: WorkflowIR): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>([DAG_TEMPLATE]);
  for (const t of ir.tasks) {
    let name = t.name.replace(/_/g, '-').replace(/-+$/, '');
    // A changed name gets a hash of the original, so `a_b` can never meet a task named `a-b`.
    if (name !== t.name || name.length > 56 || taken.has(name)) {
      name = `${name.slice(0, 48).replace(/-+$/, '')}-${createHash('sha256').update(t.name).digest('hex').slice(0, 6)}`;
    }
    taken.add(name);
    names.set(t.name, name);
  }
  return names;
}

/**
 * Names of the condition steps of the tasks with a `when`: `<task>-when`, or with a short
 * hash when that is taken (by a task, say), so every DAG task keeps a distinct, valid name.
 */
export function argoConditionNames(ir: WorkflowIR, names: Map<string, string> = argoNames(ir)): Map<string, string> {
  return stepNames(ir, names, 'when', (t) => t.when !== undefined, []);
}

/**
 * Names of the collect steps of the foreach tasks: `<task>-collect`, or with a short hash
 * when that is taken (by a task or a condition step), as for condition steps.
 */
export function argoCollectNames(ir: WorkflowIR, names: Map<string, string> = argoNames(ir)): Map<string, string> {
  return stepNames(ir, names, 'collect', (t) => t.foreach !== undefined, [...argoConditionNames(ir, names).values()]);
}

/** `<task>-<suffix>` for the tasks `has` picks, distinct from the task names, the DAG's and `taken`. */
function stepNames(ir: WorkflowIR, names: Map<string, string>, suffix: string, has: (t: TaskIR) => boolean, taken: string[]): Map<string, string> {
  const used = new Set<string>([DAG_TEMPLATE, ...names.values(), ...taken]);
  const out = new Map<string, string>();
  for (const t of ir.tasks) {
    if (!has(t)) continue;
    let name = `${names.get(t.name) as string}-${suffix}`;
    if (used.has(name)) name = `${name.slice(0, 48)}-${createHash('sha256').update(`${t.name} ${suffix}`).digest('hex').slice(0, 6)}`;
    used.add(name);
    out.set(t.name, name);
  }
  return out;
}

/**
 * The DAG task whose end means a task's final result is filed: the task itself, or for a
 * foreach task its collect step.
 */
function argoResultNames(ir: WorkflowIR, names: Map<string, string> = argoNames(ir)): Map<string, string> {
  return new Map([...names, ...argoCollectNames(ir, names)]);
}

/**
 * A task's trigger rule as Argo's `depends` (undefined for a task without upstream tasks):
 * for each upstream task U, joined with `&&`, where U stands for the DAG task filing U's
 * final result (a foreach task's collect step, {@link argoResultNames}),
 *
 * | trigger | U |
 * |---|---|
 * | `all-succeeded` | `U.Succeeded` |
 * | `none-failed` | `(U.Succeeded \|\| U.Skipped \|\| U.Omitted)` |
 *
 * Argo marks a task whose `when` was false Skipped, and one whose `depends` did not hold
 * Omitted: both are cellgraph's `skipped`. The task holding a foreach task's list must
 * have succeeded under either rule: without the list there is nothing to iterate (the
 * engine skips such a task too). A failed task (a collect step whose ratio did not hold,
 * too) fails the workflow and Argo starts nothing new (failFast), as in the engine.
 */
export function argoDepends(ir: WorkflowIR, task: TaskIR, names: Map<string, string> = argoNames(ir)): string | undefined {
  const results = argoResultNames(ir, names);
  const terms = task.upstream.map((u) => {
    const n = results.get(u) as string;
    const lenient = (task.trigger ?? 'all-succeeded') === 'none-failed' && u !== task.foreach?.from;
    return lenient ? `(${n}.Succeeded || ${n}.Skipped || ${n}.Omitted)` : `${n}.Succeeded`;
  });
  return terms.length > 0 ? terms.join(' && ') : undefined;
}

/**
 * A foreach task's collect step runs once its fan-out ended: Succeeded, Skipped (an empty
 * list: it ran over nothing) or, with `minSuccessRatio` < 1, Failed (`continueOn`: the
 * collect step applies the ratio). An Omitted fan-out omits it too (the task was skipped).
 */
function argoCollectDepends(task: TaskIR, name: string): string {
  const results = ['Succeeded', 'Skipped', ...((task.foreach?.minSuccessRatio ?? 1) < 1 ? ['Failed'] : [])];
  return `(${results.map((r) => `${name}.${r}`).join(' || ')})`;
}

/** The workflow spec shared by Workflow and CronWorkflow. */
function workflowSpec(ir: WorkflowIR, options: ArgoExportOptions): ArgoWorkflowSpec {
  const { target } = options;
  const names = argoNames(ir);
  const conditions = argoConditionNames(ir, names);
  const collects = argoCollectNames(ir, names);
  const resultNames = argoResultNames(ir, names);
  const defaults = Object.fromEntries(ir.params.map((p) => [p.name, p.default as JsonValue]));
  const values = { ...defaults, ...options.params };
  const tasks: ArgoDagTask[] = [];
  for (const t of ir.tasks) {
    const name = names.get(t.name) as string;
    const depends = argoDepends(ir, t, names);
    const condition = conditions.get(t.name);
    // The condition step runs when the task could: its verdict is the task's `when`.
    if (condition !== undefined) tasks.push({ name: condition, template: condition, ...(depends !== undefined ? { depends } : {}) });
    // `depends` is a conjunction of parenthesised terms: one more term needs no parentheses.
    const own = condition === undefined ? depends : [...(depends !== undefined ? [depends] : []), `${condition}.Succeeded`].join(' && ');
    tasks.push({
      name,
      template: name,
      ...(own !== undefined ? { depends: own } : {}),
      ...(condition !== undefined ? { when: `{{tasks.${condition}.outputs.parameters.result}} == true` } : {}),
      ...(t.foreach !== undefined ? { withParam: `{{tasks.${resultNames.get(t.foreach.from)}.outputs.parameters.${elementsParameter(t.foreach.over)}}}` } : {}),
      ...(t.foreach !== undefined && t.foreach.minSuccessRatio < 1 ? { continueOn: { failed: true } } : {})
    });
    const collect = collects.get(t.name);
    if (collect !== undefined) tasks.push({ name: collect, template: collect, depends: argoCollectDepends(t, name) });
  }
  const dag: ArgoDagTemplate = { name: DAG_TEMPLATE, dag: { tasks } };
  const containers: ArgoContainerTemplate[] = [];
  for (const t of ir.tasks) {
    // JSON with Argo placeholders in value positions: after Argo's substitution it parses
    // as the task entry's ArgoTask (parameters are passed as JSON text).
    const params = ir.params.map((p) => `${JSON.stringify(p.name)}:{{workflow.parameters.${p.name}}}`).join(',');
    const fixed = JSON.stringify({ task: t.name, workflowVersion: ir.version, workDir: options.workDir, store: options.store });
    const lists = [...new Set(ir.tasks.filter((x) => x.foreach?.from === t.name).map((x) => x.foreach?.over as string))];
    // The pod filing the task's final result writes the element indices of its lists for withParam.
    const elementLists = lists.length > 0 ? `,"elementLists":${JSON.stringify(lists)}` : '';
    const listOutputs = lists.length > 0 ? { outputs: { parameters: lists.map((list) => ({ name: elementsParameter(list), valueFrom: { path: argoElementsPath(list) } })) } } : {};
    const dynamic = t.foreach !== undefined ? ',"element":{{item}}' : elementLists;
    const argoTask = `${fixed.slice(0, -1)},"runId":"{{workflow.name}}"${t.policy.retries > 0 ? ',"retry":{{retries}}' : ''}${dynamic},"params":{${params}}}`;
    const labels = { [PodLabels.managedBy]: 'cellgraph', [PodLabels.workflow]: labelValue(ir.name), [PodLabels.task]: labelValue(t.name) };
    const timeout = t.policy.timeoutSeconds !== undefined ? { activeDeadlineSeconds: String(Math.ceil(t.policy.timeoutSeconds)) } : {};
    // A step beside the task (condition, collect): the task's image, env and memory (it
    // loads the task's values), no GPU, no retries: it is quick and deterministic.
    const step = (name: string, mode: string, outputs: Pick<ArgoContainerTemplate, 'outputs'>, extra: Pick<ArgoContainerTemplate, 'activeDeadlineSeconds'> = {}): ArgoContainerTemplate => ({
      name,
      metadata: { labels },
      ...outputs,
      ...extra,
      container: {
        image: imageByDigest(options.image),
        env: [...taskEnv(t.policy, target), { name: ARGO_TASK_ENV, value: `${fixed.slice(0, -1)},"runId":"{{workflow.name}}",${mode},"params":{${params}}}` }],
        resources: taskResources({ ...t.policy, resources: { ...t.policy.resources, gpu: undefined } }, target.gpuResource)
      }
    });
    const condition = conditions.get(t.name);
    if (condition !== undefined) containers.push(step(condition, '"condition":true', { outputs: { parameters: [{ name: 'result', valueFrom: { path: ARGO_CONDITION_PATH } }] } }, timeout));
    containers.push({
      name: names.get(t.name) as string,
      metadata: { labels },
      ...(t.foreach === undefined ? listOutputs : {}),
      // OnFailure: the task's retries are for its own failures, as in cellgraph's engine.
      ...(t.policy.retries > 0 ? { retryStrategy: { limit: String(t.policy.retries), retryPolicy: 'OnFailure' as const, backoff: { duration: '1s', factor: '2', maxDuration: '1m' } } } : {}),
      ...timeout,
      container: {
        image: imageByDigest(options.image),
        env: [...taskEnv(t.policy, target), { name: ARGO_TASK_ENV, value: argoTask }, { name: ARCHIVE_LOGS_ENV, value: '1' }],
        resources: taskResources(t.policy, target.gpuResource)
      }
    });
    // No timeout on the collect step: the task's is per element.
    const collect = collects.get(t.name);
    if (collect !== undefined) containers.push(step(collect, `"collect":true${elementLists}`, listOutputs));
  }
  return {
    entrypoint: DAG_TEMPLATE,
    arguments: { parameters: ir.params.map((p) => ({ name: p.name, value: JSON.stringify(values[p.name]), description: `${p.type} (JSON)` })) },
    // Failed pods stay for `kubectl describe` until the workflow is deleted.
    podGC: { strategy: 'OnPodSuccess' },
    ...(target.serviceAccountName ? { serviceAccountName: target.serviceAccountName } : {}),
    ...(target.imagePullSecrets.length > 0 ? { imagePullSecrets: target.imagePullSecrets.map((name) => ({ name })) } : {}),
    ...(Object.keys(target.nodeSelector).length > 0 ? { nodeSelector: target.nodeSelector } : {}),
    ...(target.tolerations.length > 0 ? { tolerations: target.tolerations } : {}),
    templates: [dag, ...containers]
  };
}

function metadata(ir: WorkflowIR, options: ArgoExportOptions): ArgoMetadata {
  return {
    namespace: options.target.namespace,
    labels: { [PodLabels.managedBy]: 'cellgraph', [PodLabels.workflow]: labelValue(ir.name) },
    annotations: { 'cellgraph.dev/workflow-version': ir.version, 'cellgraph.dev/image': imageByDigest(options.image) }
  };
}

/** An Argo `Workflow` running the IR once. */
export function argoWorkflow(ir: WorkflowIR, options: ArgoExportOptions): ArgoWorkflow {
  const dnsName = argoResourceName(ir.name);
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { generateName: `${dnsName}-`, ...metadata(ir, options) }, spec: workflowSpec(ir, options) };
}

/** An Argo `CronWorkflow` running the IR on a schedule (cron + IANA time zone + concurrency policy). */
export function argoCronWorkflow(ir: WorkflowIR, options: ArgoExportOptions, cron: ArgoCronOptions): ArgoCronWorkflow {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'CronWorkflow',
    metadata: { name: argoResourceName(ir.name), ...metadata(ir, options) },
    spec: { ...cron, workflowMetadata: { labels: { [PodLabels.managedBy]: 'cellgraph', [PodLabels.workflow]: labelValue(ir.name) } }, workflowSpec: workflowSpec(ir, options) }
  };
}

/** The Argo output parameter holding a foreach list's element indices. */
function elementsParameter(list: string): string {
  return `elements-${list.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** A DNS-1123 resource name from a workflow name. */
function argoResourceName(name: string): string {
  return name.replace(/_/g, '-').replace(/[^a-z0-9-]/g, '').replace(/^-+|-+$/g, '').slice(0, 40) || 'cellgraph';
}
