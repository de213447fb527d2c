import type { Contents } from '@jupyterlab/services';
import { apiRoutes } from '@cellgraph/schema';
import type { ICellgraphServer } from './tokens';

/** Where executed notebooks are saved, relative to JupyterLab's root. */
export const EXECUTED_DIR = 'cellgraph-runs';

/** What opening an executed notebook needs from JupyterLab: file saving and opening. */
export interface NotebookOpener {
  contents: Contents.IManager;
  open(path: string): void;
}

/**
 * Saves a finished run's executed notebook (every task's cell outputs, the run's
 * parameters and timings in its metadata) under `cellgraph-runs/<run id>.ipynb`, next to
 * the user's files, and opens it.
 */
export async function openExecutedNotebook(server: ICellgraphServer, opener: NotebookOpener, runId: string): Promise<string> {
  const notebook = await server.call(apiRoutes.executedNotebook, { params: { id: runId } });
  await opener.contents.get(EXECUTED_DIR, { content: false }).catch(() => opener.contents.save(EXECUTED_DIR, { type: 'directory' }));
  const path = `${EXECUTED_DIR}/${runId}.ipynb`;
  await opener.contents.save(path, { type: 'notebook', format: 'json', content: notebook });
  opener.open(path);
  return path;
}
