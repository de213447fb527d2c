import { Widget } from '@lumino/widgets';
import { type ExecutedRun, htmlExportUrl } from '../executed-notebook';
import { el } from './dom';

/**
 * The header above an executed notebook: which run (id, workflow, version, status, when,
 * how long), with which parameters, that it is read-only with no kernel, and an HTML
 * export (Jupyter's nbconvert, served by the Jupyter server).
 */
export class ExecutedHeader extends Widget {
  constructor(run: ExecutedRun, path: string) {
    super();
    this.addClass('cg-ExecutedHeader');
    this.node.dataset.runId = run.runId;
    const status = el('span', 'cg-RunStatus', run.status);
    status.dataset.status = run.status;
    const params = Object.entries(run.params);
    const took = run.durationMs != null ? ` · ${(run.durationMs / 1000).toFixed(1)} s` : '';
    const when = run.startedAt ? ` · ${new Date(run.startedAt).toLocaleString()}` : '';
    const html = el('a', 'cg-ExportHtml jp-mod-styled', 'Export HTML');
    html.href = htmlExportUrl(path);
    html.target = '_blank';
    html.rel = 'noopener';
    this.node.append(
      el('span', 'cg-ExecutedTitle', 'Executed notebook'),
      ' run ',
      el('span', 'cg-RunId', run.runId),
      ` of ${run.workflow} `,
      el('span', 'cg-ExecutedVersion', run.version.slice(0, 19)),
      ': ',
      status,
      `${took}${when}`,
      el('div', 'cg-ExecutedParams', params.length === 0 ? 'no parameters' : `parameters: ${params.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')}`),
      el('div', 'cg-ExecutedNote', 'Read-only, no kernel: the outputs are those of the run.'),
      html
    );
  }
}
