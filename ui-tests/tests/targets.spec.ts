/**
 * Targets: a second, real `cellgraph server` on 127.0.0.1 stands for production (with a
 * bearer token). It is configured in the extension's "Production server" dialog (a wrong token
 * is refused naming the field); Promote then preselects it, the promoted run happens there
 * (its API, asked with the token, has it; the development server does not), the DAG follows
 * it with a "where" badge, and the runs sidebar lists it with its target.
 */
import { expect, test } from '@jupyterlab/galata';
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Cellgraph, type LabApp } from './cellgraph';

const SHOTS = path.join(__dirname, '..', 'screenshots');

test.use({ autoGoto: false });

const REPO = path.resolve(__dirname, '..', '..');
const TOKEN = `prod-${Math.random().toString(36).slice(2)}-0123456789`;

/** A free port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

let prod: ChildProcess | undefined;
let prodUrl = '';
let prodDir = '';

test.beforeAll(async () => {
  const port = await freePort();
  prodUrl = `http://127.0.0.1:${port}`;
  prodDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-ui-prod-'));
  // Task processes resolve @cellgraph/kernel from the work directory, as on the development server.
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(prodDir, 'node_modules'), 'dir');
  const cli = path.join(REPO, 'server', 'bin', 'cellgraph');
  prod = spawn(process.execPath, [cli, 'server', '--host', '127.0.0.1', '--port', String(port), '--workdir', prodDir], {
    env: { ...process.env, CELLGRAPH_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let output = '';
  prod.stdout?.on('data', (d) => (output += d));
  prod.stderr?.on('data', (d) => (output += d));
  await expect
    .poll(async () => fetch(`${prodUrl}/api/v1/health`).then((r) => r.status, () => 0), { timeout: 30000, message: `production server did not start: ${output}` })
    .toBe(200);
});

test.afterAll(async () => {
  if (prod && prod.exitCode === null) {
    const exited = new Promise((resolve) => prod?.once('exit', resolve));
    prod.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 35000))]);
  }
  if (prodDir.includes('cg-ui-prod-')) fs.rmSync(prodDir, { recursive: true, force: true });
});

/** The production server's API, asked directly with its token (as an operator would). */
async function prodGet<T>(route: string): Promise<T> {
  const res = await fetch(`${prodUrl}/api/v1${route}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.ok, `${route}: ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

test('promote goes to the configured production server; the run shows where it ran', async ({ page }) => {
  test.setTimeout(240000);
  const cg = new Cellgraph(page);
  await page.goto();
  const host = new URL(prodUrl).host;
  // Starts the development server now (jupyter-server-proxy starts it on first use): on a busy
  // machine its first compile is slow.
  await cg.get('/health');

  // A wrong token is refused, naming the field; the right one is saved.
  await cg.exec('cellgraph:configure-production');
  const dialog = page.locator('.cg-ProductionDialog');
  await dialog.locator('input.cg-ProductionUrl').fill(prodUrl);
  await dialog.locator('input.cg-ProductionToken').fill('wrong-token-0123456789');
  await page.locator('.jp-Dialog-footer button', { hasText: 'Save' }).click();
  await expect(page.locator('.jp-Dialog-header', { hasText: 'Production server (token)' })).toBeVisible({ timeout: 15000 });
  await expect(page.locator('.jp-Dialog-body')).toContainText('refused');
  await page.locator('.jp-Dialog-footer button', { hasText: 'Close' }).click();
  await expect(dialog.locator('input.cg-ProductionUrl')).toHaveValue(`${prodUrl}`);
  await dialog.locator('input.cg-ProductionToken').fill(TOKEN);
  await page.locator('.jp-Dialog-footer button', { hasText: 'Save' }).click();
  await expect(dialog).toHaveCount(0, { timeout: 15000 });
  // The browser never sees the token again: the settings answer says only that there is one.
  // JupyterLab closes the dialog on the click; the save (checked by the Jupyter server against
  // production first) ends a moment later, so wait for the settings to say so.
  await expect
    .poll(async () => (await page.request.get('/cellgraph-targets/production')).json(), { timeout: 15000 })
    .toEqual({ configured: true, url: `${prodUrl}/`, hasToken: true, source: 'file' });

  await cg.openNotebook('hello.ipynb');
  await cg.exec('cellgraph:open-dag');
  await expect(cg.node('shout')).toBeVisible({ timeout: 120000 });
  await page.locator('button.cg-Promote').click();
  const promote = page.locator('.cg-PromoteDialog');
  const target = promote.locator('select.cg-Target');
  await expect(target).toHaveValue('production');
  await expect(target.locator('option[value="production"]')).toHaveText(new RegExp(`production \\(${host.replace('.', '\\.')}\\)`));
  await expect(target.locator('option[value="development"]')).toHaveCount(1);
  await expect(target.locator('option[value="production"]')).toContainText('local processes', { timeout: 15000 });
  await page.locator('.jp-Dialog-content').screenshot({ path: path.join(SHOTS, 'promote-targets.png') });
  await page.locator('.jp-Dialog-footer button', { hasText: 'Promote' }).click();

  // The DAG follows the run on production, to success.
  const bar = page.locator('.cg-DagPanel .cg-RunBar');
  await expect(bar.locator('.cg-RunWhere')).toHaveText(host, { timeout: 30000 });
  await expect(bar.locator('.cg-RunStatus')).toHaveAttribute('data-status', 'succeeded', { timeout: 90000 });
  const runId = (await bar.locator('.cg-RunId').textContent()) ?? '';
  expect(runId).toMatch(/^r-/);

  // The run is on production (asked with its token), not on the development server.
  const onProd = await prodGet<{ runs: { id: string; workflow: string; status: string }[] }>('/runs?limit=10');
  expect(onProd.runs.find((r) => r.id === runId)).toMatchObject({ workflow: 'hello', status: 'succeeded' });
  const onDev = await cg.get<{ runs: { id: string }[] }>('/runs?limit=50');
  expect(onDev.runs.some((r) => r.id === runId)).toBe(false);

  // The runs sidebar lists it with its target.
  await cg.exec('cellgraph:open-runs');
  const item = page.locator(`.cg-RunsPanel .cg-Run[data-run-id="${runId}"]`);
  await expect(item).toHaveAttribute('data-target', 'production', { timeout: 20000 });
  await expect(item.locator('.cg-RunWhere')).toHaveText(host);
  await expect(page.locator('.cg-RunsPanel .cg-Version[data-workflow="hello"][data-target="production"]')).toHaveCount(1);
  await page.locator('.cg-RunsPanel').screenshot({ path: path.join(SHOTS, 'runs-targets.png') });

  // From the sidebar, the DAG follows the run on production again; its executed notebook comes from there.
  await bar.locator('button.cg-CloseRun').click();
  await expect(bar.locator('.cg-RunId')).toHaveCount(0);
  await item.locator('button.cg-ShowOnDag').click();
  await expect(bar.locator('.cg-RunId')).toHaveText(runId, { timeout: 20000 });
  await expect(bar.locator('.cg-RunWhere')).toHaveText(host);
  await expect(bar.locator('.cg-RunStatus')).toHaveAttribute('data-status', 'succeeded');
  await bar.locator('button.cg-OpenNotebook').click();
  await expect(page.locator(`.lm-TabBar-tab[data-type="document-title"] >> text=${runId}.ipynb`)).toBeVisible({ timeout: 20000 });
  await expect(page.locator('.jp-NotebookPanel:visible .jp-OutputArea-output', { hasText: 'Hello, world' }).first()).toBeVisible();
  // Back to the DAG panel (the executed notebook opened over it).
  await page.evaluate(() => {
    const id = document.querySelector('.cg-DagPanel')?.id;
    if (id) (window as unknown as { jupyterapp: LabApp }).jupyterapp.shell.activateById(id);
  });
  await expect(page.locator('button.cg-Promote')).toBeVisible();

  // Forgetting production (the dialog's Forget): Promote goes to development again.
  await cg.exec('cellgraph:configure-production');
  await expect(dialog.locator('input.cg-ProductionUrl')).toHaveValue(`${prodUrl}/`);
  await page.locator('.jp-Dialog-footer button', { hasText: 'Forget' }).click();
  await expect(dialog).toHaveCount(0);
  await expect.poll(async () => (await (await page.request.get('/cellgraph-targets/production')).json()).configured).toBe(false);
  await page.locator('button.cg-Promote').click();
  await expect(promote.locator('select.cg-Target')).toHaveValue('development');
  await page.locator('.jp-Dialog-footer button', { hasText: 'Cancel' }).click();
  expect(cg.errors).toEqual([]);
});
