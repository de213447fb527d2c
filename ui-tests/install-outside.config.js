/**
 * The install-outside UI test (its own Playwright project; slow: it installs cellgraph from
 * its packed artifacts first, see install-outside/lab.js): JupyterLab from a fresh venv in a
 * fresh directory outside the repository, driven in Debian's Chromium like the other UI tests.
 *   npx playwright test -c install-outside.config.js
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const port = process.env.CELLGRAPH_INSTALL_UI_PORT || (process.env.CELLGRAPH_INSTALL_UI_PORT = String(20000 + (process.pid % 2000)));
if (!process.env.CELLGRAPH_INSTALL_ROOT) {
  // Removed by install-outside/teardown.js when the run ends. Set before workers start, so
  // they see the same directory.
  process.env.CELLGRAPH_INSTALL_ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-install-ui-'));
}
// Set before the base configuration loads, so it seeds no root of its own: JupyterLab is
// rooted in the fresh directory (Galata reads this too) and listens on this port.
process.env.JUPYTERLAB_GALATA_ROOT_DIR = process.env.CELLGRAPH_INSTALL_ROOT;
process.env.CELLGRAPH_UI_PORT = port;
const base = require('./playwright.config');

module.exports = {
  ...base,
  testDir: './install-outside',
  testIgnore: [],
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report-install' }]],
  globalTeardown: require.resolve('./install-outside/teardown.js'),
  timeout: 300000,
  use: { ...base.use, baseURL: `http://127.0.0.1:${port}` },
  webServer: {
    ...base.webServer,
    command: `node ${path.join(__dirname, 'install-outside', 'lab.js')}`,
    cwd: process.env.CELLGRAPH_INSTALL_ROOT,
    url: `http://127.0.0.1:${port}/lab`,
    // npm install (better-sqlite3 compiles), pip install, python -m build: minutes on 2 cores.
    timeout: 1200000
  }
};
