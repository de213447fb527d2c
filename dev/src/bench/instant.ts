import { TaskIR, TaskResult, WorkflowIR } from '@cellgraph/schema';
import type { AttemptHandle, Executor } from '@cellgraph/server/dist/executors/executor';
import { sha256 } from '@cellgraph/server/dist/stores';

/**
 * An executor that completes every attempt at once, in process: isolates the engine's
 * own cost (scheduling, records, events) from process start-up for the 10,000-task DAG.
 */
export class InstantExecutor implements Executor {
  readonly name = 'instant';
  launch(): AttemptHandle {
    const result: TaskResult = { status: 'succeeded', outputs: [], metrics: {}, cells: [], startedAt: new Date().toISOString(), durationMs: 0 };
    return { done: Promise.resolve({ kind: 'reported', result, log: '' }), cancel: () => undefined };
  }
  async recoverAttempt(): Promise<undefined> {
    return undefined;
  }
}

/** A layered DAG of `n` tasks with ordering edges to up to 3 tasks of the previous layer (the large-dag bench reads it back through the zod schema, so it stays valid). */
export function generatedIR(n: number, layerWidth: number): WorkflowIR {
  const module = 'module.exports = async function (__cg) { return {}; };';
  const codeHash = sha256(module);
  const tasks: TaskIR[] = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / layerWidth);
    const upstream =
      layer === 0 ? [] : [...new Set([0, 1, 2].map((k) => `t${(layer - 1) * layerWidth + ((i + k) % layerWidth)}`))].sort();
    tasks.push({
      name: `t${i}`,
      cells: [i],
      inputs: [],
      outputs: [],
      params: [],
      after: upstream,
      upstream,
      policy: { retries: 0, cache: false, resources: {}, env: {}, secrets: [] },
      module,
      codeHash
    });
  }
  const edges = tasks.flatMap((t) => t.upstream.map((u) => ({ from: u, to: t.name, kind: 'order' as const, values: [] })));
  const body = { irVersion: 1 as const, name: 'generated', source: { path: 'generated.ipynb', notebookHash: sha256('generated') }, params: [], paramsModule: module, tasks, edges, cells: [] };
  // Typed, not parsed: the engine is handed an IR validated where it came in (the compiler's
  // output, the compile pool's answer, or loadWorkflow reading it from disk), never a second copy.
  const ir: WorkflowIR = { ...body, version: sha256(JSON.stringify(body)) };
  return ir;
}
