/**
 * What the UI benchmarks share: a real JupyterLab from .venv on 127.0.0.1 (Galata's server
 * configuration, so `window.jupyterapp` is exposed), rooted in a temporary directory the
 * caller may seed, stopped by its PID; and Debian's Chromium.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
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

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

module.exports = { LAUNCH, repo, startLab, median };
