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
 * indices, written by the task entry), one pod per element with `{{item}}`; with
 * `minSuccessRatio` < 1 it gets `continueOn: {failed: true}` and the task entry downstream
 * applies the ratio when it collects the elements. A task with a `when` condition gets a
 * condition step before it (the same image: the task entry evaluates the compiled,
 * type-checked condition over the upstream outputs and writes `true`/`false` to an output
 * parameter) and Argo's own `when` on that parameter, so Argo shows the task Skipped.
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
  const taken = new Set<string>([DAG_TEMPLATE, ...names.values()]);
  const out = new Map<string, string>();
  for (const t of ir.tasks) {
    if (t.when === undefined) continue;
    let name = `${names.get(t.name) as string}-when`;
    if (taken.has(name)) name = `${name.slice(0, 48)}-${createHash('sha256').update(`${t.name} when`).digest('hex').slice(0, 6)}`;
    taken.add(name);
    out.set(t.name, name);
  }
  return out;
}

/**
 * A task's trigger rule as Argo's `depends` (undefined for a task without upstream tasks):
 * for each upstream task U, joined with `&&`,
 *
 * | trigger | U an ordinary task | U a foreach task |
 * |---|---|---|
 * | `all-succeeded` | `U.Succeeded` | `(U.Succeeded \|\| U.Skipped)` |
 * | `none-failed` | `(U.Succeeded \|\| U.Skipped \|\| U.Omitted)` | `(U.Succeeded \|\| U.Skipped \|\| U.Omitted)` |
 *
 * Argo marks a task whose `when` was false Skipped, and one whose `depends` did not hold
 * Omitted: both are cellgraph's `skipped`. A foreach task over an empty list is Skipped in
 * Argo but ran (over nothing) in cellgraph, hence `U.Skipped` under `all-succeeded`; with
 * `minSuccessRatio` < 1 `U.Failed` is accepted too (the task entry applies the ratio). The
 * task holding a foreach task's list must have succeeded under either rule: without the
 * list there is nothing to iterate (the engine skips such a task too). A failed task fails
 * the workflow and Argo starts nothing new (failFast), as in the engine.
 */
export function argoDepends(ir: WorkflowIR, task: TaskIR, names: Map<string, string> = argoNames(ir)): string | undefined {
  const terms = task.upstream.map((u) => {
    const n = names.get(u) as string;
    const producer = ir.tasks.find((x) => x.name === u);
    const results = ['Succeeded'];
    if (producer?.foreach !== undefined) {
      results.push('Skipped');
      if (producer.foreach.minSuccessRatio < 1) results.push('Failed');
    }
    if ((task.trigger ?? 'all-succeeded') === 'none-failed' && u !== task.foreach?.from) {
      if (!results.includes('Skipped')) results.push('Skipped');
      results.push('Omitted');
    }
    const either = results.map((r) => `${n}.${r}`).join(' || ');
    return results.length > 1 ? `(${either})` : either;
  });
  return terms.length > 0 ? terms.join(' && ') : undefined;
}

/** The workflow spec shared by Workflow and CronWorkflow. */
function workflowSpec(ir: WorkflowIR, options: ArgoExportOptions): ArgoWorkflowSpec {
  const { target } = options;
  const names = argoNames(ir);
  const conditions = argoConditionNames(ir, names);
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
      ...(t.foreach !== undefined ? { withParam: `{{tasks.${names.get(t.foreach.from)}.outputs.parameters.${elementsParameter(t.foreach.over)}}}` } : {}),
      ...(t.foreach !== undefined && t.foreach.minSuccessRatio < 1 ? { continueOn: { failed: true } } : {})
    });
  }
  const dag: ArgoDagTemplate = { name: DAG_TEMPLATE, dag: { tasks } };
  const containers: ArgoContainerTemplate[] = [];
  for (const t of ir.tasks) {
    // JSON with Argo placeholders in value positions: after Argo's substitution it parses
    // as the task entry's ArgoTask (parameters are passed as JSON text).
    const params = ir.params.map((p) => `${JSON.stringify(p.name)}:{{workflow.parameters.${p.name}}}`).join(',');
    const fixed = JSON.stringify({ task: t.name, workflowVersion: ir.version, workDir: options.workDir, store: options.store });
    const lists = ir.tasks.filter((x) => x.foreach?.from === t.name).map((x) => x.foreach?.over as string);
    const dynamic = `${t.foreach !== undefined ? ',"element":{{item}}' : ''}${lists.length > 0 ? `,"elementLists":${JSON.stringify([...new Set(lists)])}` : ''}`;
    const argoTask = `${fixed.slice(0, -1)},"runId":"{{workflow.name}}"${t.policy.retries > 0 ? ',"retry":{{retries}}' : ''}${dynamic},"params":{${params}}}`;
    const labels = { [PodLabels.managedBy]: 'cellgraph', [PodLabels.workflow]: labelValue(ir.name), [PodLabels.task]: labelValue(t.name) };
    const timeout = t.policy.timeoutSeconds !== undefined ? { activeDeadlineSeconds: String(Math.ceil(t.policy.timeoutSeconds)) } : {};
    const condition = conditions.get(t.name);
    if (condition !== undefined) {
      // The task's image, env and memory (it loads the task's inputs), no GPU, no retries: a condition is quick and deterministic.
      const argoCondition = `${fixed.slice(0, -1)},"runId":"{{workflow.name}}","condition":true,"params":{${params}}}`;
      containers.push({
        name: condition,
        metadata: { labels },
        outputs: { parameters: [{ name: 'result', valueFrom: { path: ARGO_CONDITION_PATH } }] },
        ...timeout,
        container: {
          image: imageByDigest(options.image),
          env: [...taskEnv(t.policy, target), { name: ARGO_TASK_ENV, value: argoCondition }],
          resources: taskResources({ ...t.policy, resources: { ...t.policy.resources, gpu: undefined } }, target.gpuResource)
        }
      });
    }
    containers.push({
      name: names.get(t.name) as string,
      metadata: { labels },
      ...(lists.length > 0 ? { outputs: { parameters: [...new Set(lists)].map((list) => ({ name: elementsParameter(list), valueFrom: { path: argoElementsPath(list) } })) } } : {}),
      // OnFailure: the task's retries are for its own failures, as in cellgraph's engine.
      ...(t.policy.retries > 0 ? { retryStrategy: { limit: String(t.policy.retries), retryPolicy: 'OnFailure' as const, backoff: { duration: '1s', factor: '2', maxDuration: '1m' } } } : {}),
      ...timeout,
      container: {
        image: imageByDigest(options.image),
        env: [...taskEnv(t.policy, target), { name: ARGO_TASK_ENV, value: argoTask }, { name: ARCHIVE_LOGS_ENV, value: '1' }],
        resources: taskResources(t.policy, target.gpuResource)
      }
    });
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
