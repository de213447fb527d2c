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

/** What a run-end notice needs of JupyterLab: emitting a notification (JupyterLab's Notification.emit in the product). */
export type EmitNotice = (message: string, kind: EndKind, actions: { label: string; caption: string; callback: () => void }[]) => void;

/**
 * Watches a run started from a panel without a DAG of its own (the runs sidebar's Retry and
 * version Run) until it ends, then says so once, as the DAG panel does for its runs. The
 * watch ends with the run, or after `maxMs` (a run that takes longer is still in the sidebar).
 */
export function noticeRunEnd(
  follow: (onRun: (run: RunDetail) => void) => { dispose(): void },
  emit: EmitNotice,
  actions: (run: RunDetail) => { label: string; caption: string; callback: () => void }[],
  production?: string,
  maxMs = 6 * 3600 * 1000
): void {
  let said = false;
  const watch = follow((run) => {
    if (said || !(run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled')) return;
    said = true;
    clearTimeout(limit);
    // Disposed after this callback returns: the follower is still delivering it.
    setTimeout(() => watch.dispose(), 0);
    const { kind, message } = runEndMessage(run, production);
    emit(message, kind, actions(run));
  });
  const limit = setTimeout(() => watch.dispose(), maxMs);
}
