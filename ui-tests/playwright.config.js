/**
 * UI tests: Galata's Playwright configuration, Debian's Chromium (Playwright's own browser
 * download does not work here), and a real JupyterLab from the repository's .venv with the
 * cellgraph extension installed, started by Playwright and stopped when the tests end.
 * Its root is a temporary directory seeded with the examples and the repository's
 * node_modules (the tslab kernel and the cellgraph server resolve @cellgraph/kernel there).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const repo = path.resolve(__dirname, '..');
const port = process.env.CELLGRAPH_UI_PORT || (process.env.CELLGRAPH_UI_PORT = String(18000 + (process.pid % 2000)));
if (!process.env.JUPYTERLAB_GALATA_ROOT_DIR) {
  // Removed by global-teardown.js when the run ends.
  process.env.CELLGRAPH_UI_SEEDED_ROOT = '1';
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-ui-'));
  for (const name of ['hello', 'iris']) fs.cpSync(path.join(repo, 'examples', name), root, { recursive: true, filter: (s) => !/[\\/](out|\.cellgraph)$/.test(s) });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  process.env.JUPYTERLAB_GALATA_ROOT_DIR = root;
}

module.exports = {
  ...baseConfig,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  workers: 1,
  // install-outside/ is its own project (install-outside.config.js).
  testIgnore: ['install-outside/**', 'hub/**'],
  globalTeardown: require.resolve('./global-teardown.js'),
  retries: 0,
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1280, height: 800 },
    // Video needs Playwright's ffmpeg download, which does not work here.
    video: 'off',
    trace: 'off',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    }
  },
  webServer: {
    // jupyterlab-server.js runs `.venv/bin/jupyter lab` and cleans up after it.
    command: `node ${path.join(__dirname, 'jupyterlab-server.js')}`,
    cwd: process.env.JUPYTERLAB_GALATA_ROOT_DIR,
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 120000,
    reuseExistingServer: false,
    // SIGTERM first, so JupyterLab shuts its kernels and the proxied cellgraph server down
    // (a SIGKILL of the group would orphan the kernels, which run in sessions of their own).
    gracefulShutdown: { signal: 'SIGTERM', timeout: 40000 }
  }
};
