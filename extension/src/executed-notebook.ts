import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import type { Contents } from '@jupyterlab/services';
import { z } from 'zod';
import { JsonValue, apiRoutes, type Notebook } from '@cellgraph/schema';
import type { ICellgraphServer } from './tokens';

/** Where executed notebooks are saved, relative to JupyterLab's root. */
export const EXECUTED_DIR = 'cellgraph-runs';

/** What the header of an executed notebook shows, read from its `metadata.cellgraph` (written by the server). */
export const ExecutedRun = z.object({
  runId: z.string(),
  workflow: z.string(),
  version: z.string(),
  status: z.string(),
  params: z.record(JsonValue),
  startedAt: z.string().nullable().optional(),
  durationMs: z.number().nullable().optional()
});
export type ExecutedRun = z.infer<typeof ExecutedRun>;

/** What opening an executed notebook needs from JupyterLab: file saving and opening. */
export interface NotebookOpener {
  contents: Contents.IManager;
  /** Opens a notebook; given `executed`, read-only, without starting a kernel, under a header describing the run. */
  open(path: string, executed?: ExecutedRun): void;
}

/** The URL of Jupyter's own HTML export (nbconvert) of a notebook, as a download. */
export function htmlExportUrl(path: string): string {
  return `${URLExt.join(PageConfig.getBaseUrl(), 'nbconvert/html', URLExt.encodeParts(path))}?download=true`;
}

/**
 * Every cell marked not editable and not deletable (nbformat's `editable`/`deletable`,
 * which JupyterLab honours): an executed notebook is a record of a run, not a draft.
 */
export function lockCells(notebook: Notebook): Notebook {
  return { ...notebook, cells: notebook.cells.map((c) => ({ ...c, metadata: { ...c.metadata, editable: false, deletable: false } })) };
}

/**
 * Saves a finished run's executed notebook (every task's cell outputs, papermill's
 * injected-parameters cell, the run's parameters and timings in its metadata) under
 * `cellgraph-runs/<run id>.ipynb`, next to the user's files, and opens it read-only
 * without a kernel, under a header (run, version, parameters, status, HTML export).
 */
export async function openExecutedNotebook(server: ICellgraphServer, opener: NotebookOpener, runId: string): Promise<string> {
  const notebook = await server.call(apiRoutes.executedNotebook, { params: { id: runId } });
  await opener.contents.get(EXECUTED_DIR, { content: false }).catch(() => opener.contents.save(EXECUTED_DIR, { type: 'directory' }));
  const path = `${EXECUTED_DIR}/${runId}.ipynb`;
  await opener.contents.save(path, { type: 'notebook', format: 'json', content: lockCells(notebook) });
  const run = ExecutedRun.safeParse(notebook.metadata.cellgraph);
  opener.open(path, run.success ? run.data : { runId, workflow: '', version: '', status: 'unknown', params: {} });
  return path;
}
