/**
 * JupyterLab start-up with and without the cellgraph extension (figures printed, never
 * asserted; target: the extension adds <= 300 ms). For each variant, a real JupyterLab from
 * .venv on 127.0.0.1 and Debian's Chromium: time from navigation to `app.restored`, median
 * of 5 page loads after one warm-up. "Without" disables @cellgraph/jupyterlab through a
 * page_config.json in a temporary JUPYTER_CONFIG_DIR, so the user's configuration is untouched.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('@playwright/test');
const { LAUNCH, median, startLab } = require('./lab');

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
  return median(times);
}

async function main() {
  const disabled = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-config-'));
  fs.mkdirSync(path.join(disabled, 'labconfig'));
  fs.writeFileSync(path.join(disabled, 'labconfig', 'page_config.json'), JSON.stringify({ disabledExtensions: { '@cellgraph/jupyterlab': true } }));
  const results = {};
  for (const [name, configDir, port] of [['with the extension', undefined, 18871], ['without it', disabled, 18872]]) {
    const lab = await startLab(port, { configDir });
    try {
      results[name] = await measure(port);
    } finally {
      await lab.stop();
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
