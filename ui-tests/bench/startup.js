/**
 * JupyterLab start-up with and without the cellgraph extension (figures printed, never
 * asserted; target: the extension adds <= 300 ms). For each variant, a real JupyterLab from
 * .venv on 127.0.0.1 and Debian's Chromium: time from navigation to `app.restored`, median
 * of 5 page loads after one warm-up. "Without" disables @cellgraph/jupyterlab through a
 * page_config.json in a temporary JUPYTER_CONFIG_DIR, so the user's configuration is untouched.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('@playwright/test');

const repo = path.resolve(__dirname, '..', '..');
const LAUNCH = { executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] };

async function startLab(port, configDir) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-startup-'));
  const env = { ...process.env, JUPYTERLAB_GALATA_ROOT_DIR: root, CELLGRAPH_UI_PORT: String(port), ...(configDir ? { JUPYTER_CONFIG_DIR: configDir } : {}) };
  const child = spawn(path.join(repo, '.venv', 'bin', 'jupyter'), ['lab', '--config', path.join(__dirname, '..', 'jupyter_server_test_config.py')], { env, stdio: 'ignore' });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/lab`)).ok) return { child, root };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('JupyterLab did not start');
}

async function measure(port) {
  const browser = await chromium.launch(LAUNCH);
  const times = [];
  try {
    for (let i = 0; i < 6; i++) {
      const page = await browser.newPage();
      const t0 = Date.now();
      await page.goto(`http://127.0.0.1:${port}/lab`);
      await page.waitForFunction(() => window.jupyterapp !== undefined, null, { timeout: 60000 });
      await page.evaluate(() => window.jupyterapp.restored);
      if (i > 0) times.push(Date.now() - t0);
      const loaded = await page.evaluate(() => window.jupyterapp.hasPlugin('@cellgraph/jupyterlab:dag'));
      await page.close();
      if (i === 0) console.log(`  cellgraph plugins loaded: ${loaded}`);
    }
  } finally {
    await browser.close();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main() {
  const disabled = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-config-'));
  fs.mkdirSync(path.join(disabled, 'labconfig'));
  fs.writeFileSync(path.join(disabled, 'labconfig', 'page_config.json'), JSON.stringify({ disabledExtensions: { '@cellgraph/jupyterlab': true } }));
  const results = {};
  for (const [name, configDir, port] of [['with the extension', undefined, 18871], ['without it', disabled, 18872]]) {
    const lab = await startLab(port, configDir);
    try {
      results[name] = await measure(port);
    } finally {
      lab.child.kill('SIGTERM');
      fs.rmSync(lab.root, { recursive: true, force: true });
    }
    console.log(`JupyterLab start-up (navigation -> restored), ${name}: ${results[name]} ms (median of 5)`);
  }
  fs.rmSync(disabled, { recursive: true, force: true });
  console.log(`added by the extension: ${results['with the extension'] - results['without it']} ms (target <= 300 ms)`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
