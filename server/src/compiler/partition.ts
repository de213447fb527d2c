import { CellPlan, Diagnostic, Notebook, TaskAnnotation, isTaskAnnotation, readCellAnnotation, sourceText } from '@cellgraph/schema';

/** A code cell's index in the notebook and its source. */
export interface CodeCell {
  index: number;
  source: string;
}

/** A task: its annotation and its cells (the annotated one first). */
export interface TaskPlan {
  name: string;
  annotation: TaskAnnotation;
  cells: CodeCell[];
}

/** The notebook's code cells sorted by the role they play in the workflow. */
export interface Partition {
  setup: CodeCell[];
  params?: CodeCell;
  skip: CodeCell[];
  tasks: TaskPlan[];
  /** What each notebook cell is to the workflow, in notebook order. */
  plans: CellPlan[];
}

type Group = { kind: 'setup' } | { kind: 'skip' } | { kind: 'task'; task: TaskPlan } | { kind: 'invalid' };

/**
 * Applies the authoring contract: an annotated cell starts a task or plays a role;
 * unannotated cells continue the group above (setup before the first task). A cell whose
 * annotation is invalid is left out, with the cells that follow it, so one typo does not
 * cascade into errors about the wrong task.
 */
export function partitionCells(notebook: Notebook, notebookPath: string): { partition: Partition; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const part: Partition = { setup: [], skip: [], tasks: [], plans: [] };
  const byName = new Map<string, TaskPlan>();
  let group: Group = { kind: 'setup' };
  notebook.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') {
      part.plans.push({ cell: index, kind: 'markdown' });
      return;
    }
    const code: CodeCell = { index, source: sourceText(cell.source) };
    const read = readCellAnnotation(cell.metadata);
    if (!read.ok) {
      for (const issue of read.issues) {
        diagnostics.push({ severity: 'error', code: 'annotation', message: issue.message, notebook: notebookPath, cell: index, field: issue.path });
      }
      group = { kind: 'invalid' };
      part.plans.push({ cell: index, kind: 'skip' });
      part.skip.push(code);
      return;
    }
    const a = read.annotation;
    if (a !== undefined && isTaskAnnotation(a)) {
      if (byName.has(a.task)) {
        const first = byName.get(a.task)?.cells[0]?.index;
        diagnostics.push({
          severity: 'error',
          code: 'duplicate-task',
          message: `task "${a.task}" is already started by cell ${first}; task names must be unique`,
          notebook: notebookPath,
          cell: index,
          task: a.task,
          field: 'cellgraph.task'
        });
        group = { kind: 'invalid' };
        part.plans.push({ cell: index, kind: 'skip' });
        part.skip.push(code);
        return;
      }
      const task: TaskPlan = { name: a.task, annotation: a, cells: [code] };
      byName.set(a.task, task);
      part.tasks.push(task);
      group = { kind: 'task', task };
      part.plans.push({ cell: index, kind: 'task', task: a.task });
      return;
    }
    const role = a?.role;
    if (role === 'parameters') {
      if (part.params !== undefined) {
        diagnostics.push({
          severity: 'error',
          code: 'parameter',
          message: `cell ${part.params.index} is already the parameters cell; a notebook has at most one`,
          notebook: notebookPath,
          cell: index,
          field: 'cellgraph.role'
        });
        part.plans.push({ cell: index, kind: 'skip' });
        part.skip.push(code);
        return;
      }
      part.params = code;
      part.plans.push({ cell: index, kind: 'parameters' });
      return;
    }
    if (role === 'setup') group = { kind: 'setup' };
    else if (role === 'skip') group = { kind: 'skip' };
    switch (group.kind) {
      case 'setup':
        part.setup.push(code);
        part.plans.push({ cell: index, kind: 'setup' });
        break;
      case 'task':
        group.task.cells.push(code);
        part.plans.push({ cell: index, kind: 'task', task: group.task.name });
        break;
      case 'skip':
      case 'invalid':
        part.skip.push(code);
        part.plans.push({ cell: index, kind: 'skip' });
        break;
    }
  });
  for (const task of part.tasks) {
    (task.annotation.after ?? []).forEach((name, i) => {
      if (!byName.has(name)) {
        diagnostics.push({
          severity: 'error',
          code: 'unknown-after',
          message: `"after" names task "${name}", which this notebook does not define`,
          notebook: notebookPath,
          cell: task.cells[0].index,
          task: task.name,
          field: `cellgraph.after.${i}`
        });
      }
    });
  }
  if (part.tasks.length === 0 && diagnostics.length === 0) {
    diagnostics.push({
      severity: 'error',
      code: 'no-tasks',
      message: 'no cell starts a task; annotate a cell with {"task": "name"} in its metadata under "cellgraph"',
      notebook: notebookPath
    });
  }
  return { partition: part, diagnostics };
}

/** Setup, parameters and task cells (everything that runs), in notebook order. */
export function runnableCells(part: Partition): CodeCell[] {
  return [...part.setup, ...(part.params ? [part.params] : []), ...part.tasks.flatMap((t) => t.cells)].sort((a, b) => a.index - b.index);
}
