/**
 * What the UI benchmarks share: a real JupyterLab from .venv on 127.0.0.1 (Galata's server
 * configuration, so `window.jupyterapp` is exposed), rooted in a temporary directory the
 * caller may seed, stopped by its PID; and Debian's Chromium.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('@playwright/test');
const { stopLeftovers } = require('../leftovers');

const repo = path.resolve(__dirname, '..', '..');
const LAUNCH = { executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] };

/** Starts JupyterLab on `port`; `seed(root)` may write files into its root first. */
async function startLab(port, { configDir, seed } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-bench-lab-'));
  if (seed) seed(root);
  const env = { ...process.env, JUPYTERLAB_GALATA_ROOT_DIR: root, CELLGRAPH_UI_PORT: String(port), ...(configDir ? { JUPYTER_CONFIG_DIR: configDir } : {}) };
  const child = spawn(path.join(repo, '.venv', 'bin', 'jupyter'), ['lab', '--config', path.join(__dirname, '..', 'jupyter_server_test_config.py')], { cwd: root, env, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  /** Stops JupyterLab (it shuts its kernels down), ends what it left behind, removes the root. */
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30000))]);
    await stopLeftovers(root);
    fs.rmSync(root, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/lab`)).ok) return { child, root, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error('JupyterLab did not start');
}

/**
 * A notebook of `n` tasks, `width` a layer, each reading two values of the layer above;
 * `salt` changes the first layer's constants (a notebook the server has not compiled yet).
 */
function layeredNotebook(n, width, salt = 0) {
  const cells = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const inputs = layer === 0 ? [] : [...new Set([0, 1].map((k) => (layer - 1) * width + ((i + k) % width)))];
    const expr = inputs.length === 0 ? String(i + salt) : inputs.map((j) => `v${j}`).join(' + ');
    cells.push({ id: `c${i}`, cell_type: 'code', metadata: { cellgraph: { task: `t${i}` } }, source: [`const v${i}: number = ${expr};`], outputs: [], execution_count: null });
  }
  return { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } }, cells };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Runs `body(page)` on a page of JupyterLab at `port` (ready: `app.restored`) in Debian's
 * Chromium; on failure saves the page to `<tmp>/cg-bench-<name>.png`; then closes the browser
 * and stops the lab.
 */
async function inLab(name, lab, port, body) {
  const browser = await chromium.launch(LAUNCH);
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`http://127.0.0.1:${port}/lab`);
    await page.waitForFunction(() => window.jupyterapp !== undefined, null, { timeout: 60000 });
    await page.evaluate(() => window.jupyterapp.restored);
    await body(page);
  } catch (err) {
    const shot = path.join(os.tmpdir(), `cg-bench-${name}.png`);
    await browser.contexts()[0]?.pages()[0]?.screenshot({ path: shot }).catch(() => undefined);
    console.error(`bench failed; the page is in ${shot}`);
    throw err;
  } finally {
    await browser.close();
    await lab.stop();
  }
}

/** Runs a bench's `main`; a failure is printed and makes the exit code non-zero. */
function run(main) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}

module.exports = { LAUNCH, inLab, layeredNotebook, repo, run, startLab, median };
