/**
 * cellgraph installed outside this repository from its artifacts only (install-outside/lab.js:
 * the npm packs and tslab with `npm install`, the wheel and JupyterLab in a fresh venv): a
 * notebook created in a subfolder imports @cellgraph/kernel and reads the data file next to
 * it, runs in the tslab kernel, shows its DAG (the server JupyterLab started is the project's
 * `cellgraph`), and is promoted to a run that succeeds.
 */
import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';
import { Cellgraph } from '../tests/cellgraph';

test.use({ autoGoto: false });

/** Imports @cellgraph/kernel and reads data.json next to it (lab.js put data.json in analysis/). */
const NOTEBOOK = fs.readFileSync(path.join(__dirname, 'analysis', 'notebook.ipynb'), 'utf8');

test('a notebook in a subfolder of a fresh install runs in tslab, shows its DAG and is promoted to a succeeded run', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  expect(await page.contents.uploadContent(NOTEBOOK, 'text', 'analysis/notebook.ipynb')).toBe(true);
  await cg.openNotebook('analysis/notebook.ipynb');

  // The tslab kernel, started in analysis/, resolves @cellgraph/kernel from the project's node_modules.
  expect(await page.notebook.run()).toBe(true);
  // Cell 0 is markdown; 1 setup, 2 load, 3 sum.
  const outputs = (await Promise.all([1, 2, 3].map((i) => page.notebook.getCellTextOutput(i)))).map((o) => (o ?? []).join('\n'));
  expect(outputs.join('\n')).not.toMatch(/Cannot find module|error TS|Error:/);
  expect(outputs[2]).toContain('total is 23');

  // The DAG, compiled by the server JupyterLab started from the project's cellgraph.
  await cg.exec('cellgraph:open-dag');
  await expect(page.locator('.cg-DagPanel')).toBeVisible();
  await expect(cg.node('load')).toBeVisible({ timeout: 60000 });
  await expect(cg.node('sum')).toBeVisible();

  // Promote: no parameters, local target; the run is followed on the DAG to success.
  await page.locator('button.cg-Promote').click();
  const accept = page.locator('.jp-Dialog-footer button', { hasText: 'Promote' });
  await expect(page.locator('.cg-PromoteDialog select.cg-Target')).toContainText('local processes', { timeout: 20000 });
  await expect(accept).toBeEnabled();
  await accept.click();
  await expect(page.locator('.cg-DagPanel .cg-RunBar .cg-RunStatus')).toHaveAttribute('data-status', 'succeeded', { timeout: 120000 });
  for (const task of ['load', 'sum']) await expect(cg.node(task)).toHaveClass(/cg-state-succeeded/);
  const runId = (await page.locator('.cg-DagPanel .cg-RunBar .cg-RunId').textContent()) ?? '';
  const outputsOfSum = await cg.get<{ metrics: Record<string, unknown> }>(`/runs/${runId}/tasks/sum/outputs`);
  expect(outputsOfSum.metrics).toEqual({ total: 23 });
  expect(cg.errors).toEqual([]);
});
