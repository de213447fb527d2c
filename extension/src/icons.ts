import { LabIcon } from '@jupyterlab/ui-components';

/** cellgraph's icon: three tasks and the edges between them (themed like JupyterLab's own icons). */
export const cellgraphIcon = new LabIcon({
  name: '@cellgraph/jupyterlab:dag',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<rect x="8" y="2" width="8" height="5" rx="1"/><rect x="2" y="17" width="8" height="5" rx="1"/><rect x="14" y="17" width="8" height="5" rx="1"/>' +
    '<path d="M11 7h2v4h5a1 1 0 0 1 1 1v5h-2v-4H7v4H5v-5a1 1 0 0 1 1-1h5z"/></g></svg>'
});
