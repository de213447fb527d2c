/** Removes the temporary JupyterLab root playwright.config.js seeded (never a root given by the caller). */
const fs = require('fs');

module.exports = async () => {
  const root = process.env.JUPYTERLAB_GALATA_ROOT_DIR;
  if (process.env.CELLGRAPH_UI_SEEDED_ROOT === '1' && root && root.includes('cg-ui-')) fs.rmSync(root, { recursive: true, force: true });
};
