import type { CellRun, JsonValue, Notebook, NotebookCell, RunRecord, TaskIR, TaskRunRecord, WorkflowIR } from '@cellgraph/schema';
import { type SkipDecisionIR, skipReasons } from './skip-reason';

/** Whether a cell is the parameters cell: `{"role": "parameters"}`, or papermill's `parameters` tag. */
function isParametersCell(cell: NotebookCell): boolean {
  const annotation = cell.metadata.cellgraph as { role?: unknown } | undefined;
  const tags = cell.metadata.tags;
  return cell.cell_type === 'code' && (annotation?.role === 'parameters' || (Array.isArray(tags) && tags.includes('parameters')));
}

/**
 * Papermill's `injected-parameters` cell: the run's parameter values as declarations that
 * shadow the parameters cell's defaults (tslab lets a later cell declare a name again), so
 * the executed notebook reads as what ran: `const n = 200;` after the cell that says 100.
 */
export function injectedParametersCell(runId: string, params: Record<string, JsonValue>, withId: boolean): NotebookCell {
  const lines = Object.entries(params).map(([name, value]) => `const ${name} = ${JSON.stringify(value)};`);
  return {
    cell_type: 'code',
    // nbformat 4.5 gives every cell an id: one that cannot clash with JupyterLab's UUIDs.
    ...(withId ? { id: 'cellgraph-injected-parameters' } : {}),
    source: [`// Parameters of run ${runId}, injected by cellgraph`, ...lines].join('\n'),
    metadata: { tags: ['injected-parameters'] },
    outputs: [],
    execution_count: null
  };
}

/**
 * Builds the executed copy of a run's notebook, as papermill and Jupyter Scheduler do:
 * each task's cells carry the outputs they produced in this run (for a cached task, those
 * of the run that produced the cache entry), setup cells carry the outputs of the first
 * task that ran them, an `injected-parameters` cell after the parameters cell holds the
 * run's values, and `metadata.cellgraph` holds the run id, parameters and timings. A
 * skipped task's first cell says it was skipped and why (with the IR's tasks given).
 */
export function buildExecutedNotebook(input: {
  notebook: Notebook;
  ir: Pick<WorkflowIR, 'name' | 'version'> & { tasks?: readonly (SkipDecisionIR & Pick<TaskIR, 'cells'>)[] };
  run: RunRecord;
  tasks: TaskRunRecord[];
  /** Cell runs per task, in the order the tasks finished. */
  cellRuns: { task: string; cached: boolean; cells: CellRun[] }[];
}): Notebook {
  const byCell = new Map<number, { run: CellRun; task: string; cached: boolean }>();
  for (const entry of input.cellRuns) {
    for (const cell of entry.cells) {
      // Setup and parameters cells run in every task: keep the first task's outputs.
      if (!byCell.has(cell.cell)) byCell.set(cell.cell, { run: cell, task: entry.task, cached: entry.cached });
    }
  }
  const reasons = input.ir.tasks !== undefined ? skipReasons({ tasks: input.ir.tasks }, input.tasks, input.run.status) : new Map<string, string>();
  const skippedAt = new Map<number, string>();
  for (const t of input.ir.tasks ?? []) {
    const reason = reasons.get(t.name);
    if (reason !== undefined && t.cells.length > 0) skippedAt.set(t.cells[0], `cellgraph: task ${t.name} was skipped: ${reason}\n`);
  }
  let executionCount = 0;
  const cells = input.notebook.cells.map((cell, index) => {
    if (cell.cell_type !== 'code') return cell;
    const ran = byCell.get(index);
    const skipped = skippedAt.get(index);
    if (ran === undefined && skipped !== undefined) return { ...cell, outputs: [{ output_type: 'stream' as const, name: 'stdout' as const, text: skipped }], execution_count: null };
    if (ran === undefined) return { ...cell, outputs: [], execution_count: null };
    executionCount += 1;
    return {
      ...cell,
      execution_count: executionCount,
      outputs: ran.run.outputs.map((o) => (o.output_type === 'execute_result' ? { ...o, execution_count: executionCount } : o)),
      metadata: {
        ...cell.metadata,
        cellgraph_run: { task: ran.task, cached: ran.cached, startedAt: ran.run.startedAt, durationMs: ran.run.durationMs }
      }
    };
  });
  // After the parameters cell, as papermill puts it (a notebook without one has no parameters).
  const at = cells.findIndex(isParametersCell);
  if (at >= 0 && Object.keys(input.run.params).length > 0) {
    cells.splice(at + 1, 0, injectedParametersCell(input.run.id, input.run.params, cells.some((c) => c.id !== undefined)));
  }
  const started = input.run.startedAt ? Date.parse(input.run.startedAt) : undefined;
  const finished = input.run.finishedAt ? Date.parse(input.run.finishedAt) : undefined;
  return {
    ...input.notebook,
    cells,
    metadata: {
      ...input.notebook.metadata,
      cellgraph: {
        runId: input.run.id,
        workflow: input.ir.name,
        version: input.ir.version,
        status: input.run.status,
        params: input.run.params,
        startedAt: input.run.startedAt ?? null,
        finishedAt: input.run.finishedAt ?? null,
        durationMs: started !== undefined && finished !== undefined ? finished - started : null,
        tasks: Object.fromEntries(
          input.tasks.map((t) => [
            t.task,
            { status: t.status, attempts: t.attempts, cached: t.cached, durationMs: t.durationMs ?? null, error: t.error?.message ?? null, ...(reasons.has(t.task) ? { skipReason: reasons.get(t.task) } : {}) }
          ])
        )
      }
    }
  };
}
