/**
 * The JupyterHub UI test (its own Playwright project): users sign in to a real JupyterHub in
 * Debian's Chromium and work against a production cellgraph server with their Hub identity.
 * hub/setup.js starts the Hub and the production server once for the run and stops them.
 *   npx playwright test -c hub.config.js
 */
// Set before the base configuration loads, so it seeds no JupyterLab root of its own (no webServer here).
process.env.JUPYTERLAB_GALATA_ROOT_DIR = process.env.JUPYTERLAB_GALATA_ROOT_DIR || __dirname;
const base = require('./playwright.config');

module.exports = {
  ...base,
  testDir: './hub',
  testIgnore: [],
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report-hub' }]],
  globalSetup: require.resolve('./hub/setup.js'),
  globalTeardown: undefined,
  // Each user's single-user server starts on first sign-in (and a development cellgraph server for alice).
  timeout: 300000,
  use: { ...base.use, baseURL: undefined },
  webServer: undefined
};
