import type { RunDetail } from '@cellgraph/schema';

/** The notification kinds of JupyterLab's Notification API this uses. */
export type EndKind = 'success' | 'error' | 'warning';

/**
 * What a notification says when a run started from JupyterLab ends: the workflow, the run
 * id, the outcome with its duration, and for a failure the first failed task and its error.
 * `production` is the production server's label when the run is there.
 */
export function runEndMessage(run: RunDetail, production?: string): { kind: EndKind; message: string } {
  const where = production === undefined ? '' : ` on ${production}`;
  const took = run.durationMs === undefined ? '' : ` in ${(run.durationMs / 1000).toFixed(1)} s`;
  const head = `cellgraph: ${run.workflow} run ${run.runId}${where}`;
  if (run.status === 'succeeded') {
    const cached = run.tasks.filter((t) => t.status === 'cached').length;
    return { kind: 'success', message: `${head} succeeded${took}${cached > 0 ? ` (${cached}/${run.tasks.length} tasks cached)` : ''}` };
  }
  if (run.status === 'failed') {
    const failed = run.tasks.find((t) => t.status === 'failed');
    const why = failed !== undefined ? `: task ${failed.name}${failed.error ? `: ${firstLine(failed.error)}` : ''}` : run.error ? `: ${firstLine(run.error)}` : '';
    return { kind: 'error', message: `${head} failed${took}${why}` };
  }
  return { kind: 'warning', message: `${head} ${run.status}${took}` };
}

function firstLine(text: string): string {
  const line = text.split('\n')[0];
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}
