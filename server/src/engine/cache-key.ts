import type { ArtifactRef, JsonValue, TaskIR, WorkflowIR } from '@cellgraph/schema';
import { sha256 } from '../stores';

/**
 * A task's cache key: its normalized code (the generated module, which includes the setup
 * code and imports, comments and formatting stripped), the content hashes of its inputs,
 * the parameters it reads, its environment, and the image digest. Editing a cell changes
 * exactly that task's key; a dependent's key changes when its inputs' content does.
 * Without an image, the folder the task runs in counts too: a task reading `data.json`
 * beside its notebook in one folder must not be served the result of the same code run in
 * another (an image holds the notebook's files, so its digest stands for them).
 */
export function taskCacheKey(
  ir: Pick<WorkflowIR, 'image'>,
  task: Pick<TaskIR, 'name' | 'codeHash' | 'params' | 'policy'>,
  inputs: Record<string, Pick<ArtifactRef, 'hash'>>,
  params: Record<string, JsonValue>,
  /** The directory the task runs in (the notebook's folder). */
  workDir?: string
): string {
  const material = {
    v: 1,
    task: task.name,
    code: task.codeHash,
    inputs: Object.keys(inputs)
      .sort()
      .map((name) => [name, inputs[name].hash]),
    params: [...task.params].sort().map((name) => [name, params[name] ?? null]),
    env: Object.keys(task.policy.env)
      .sort()
      .map((k) => [k, task.policy.env[k]]),
    image: ir.image?.digest ?? null,
    ...(ir.image === undefined && workDir !== undefined ? { dir: workDir } : {})
  };
  return sha256(JSON.stringify(material));
}
