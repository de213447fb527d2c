/**
 * Running a notebook before promoting it, as a data scientist iterates (issue 15, points 1,
 * 2, 5, 6, 8): a notebook in a subfolder is its own workflow and reads the data beside it;
 * Run (no version promoted) asks for parameters and remembers them; a failure is shown at
 * its cell and line, in the task's log and in a notification; Re-run after the fix reuses the
 * unchanged upstream task; the executed notebook opens read-only without a kernel under a
 * header, with the injected parameters and an HTML export; a promoted version's retry says
 * which version it runs and offers to promote a changed notebook; and the small ones (tag
 * panel applies as typed, a bad task name keeps what was typed, an untagged notebook's hint).
 */
import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import * as path from 'path';
import { API, Cellgraph, type Cell, type LabApp, seed } from './cellgraph';

test.use({ autoGoto: false });
// Runs, a cold first compile and JupyterLab itself share a small machine: room for each test.
test.setTimeout(240_000);

const SHOTS = path.join(__dirname, '..', 'screenshots');

const reader: Cell[] = [
  { source: 'import * as fs from "fs";', cellgraph: { role: 'setup' } },
  { source: 'const baseline: number = JSON.parse(fs.readFileSync("data/baseline.json", "utf8")).n;\nconsole.log(`baseline ${baseline}`);', cellgraph: { task: 'read' } }
];

/** Opens a notebook and its DAG; a cold first compile on a busy machine may take a while. */
async function openDag(cg: Cellgraph, notebook: string, task: string): Promise<void> {
  await cg.openNotebook(notebook);
  await cg.exec('cellgraph:open-dag');
  await expect(cg.node(task)).toBeVisible({ timeout: 120000 });
}

/** Makes a cell of the current notebook the active one. */
async function activateCell(page: IJupyterLabPageFixture, index: number): Promise<void> {
  await page.evaluate((i) => {
    const app = (window as unknown as { jupyterapp: LabApp }).jupyterapp;
    const notebook = [...app.shell.widgets('main')].find((w) => w.content?.model?.cells !== undefined);
    if (notebook?.content) notebook.content.activeCellIndex = i;
  }, index);
}

test('a notebook in a subfolder is promoted from the UI as its own workflow and reads the data file beside it', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  // The first request through the proxy starts the cellgraph server (slow on a busy machine).
  await expect.poll(async () => (await page.request.get(`${API}/health`)).status(), { timeout: 90000, intervals: [1000] }).toBe(200);
  await seed(page, [
    { path: 'analysis', dir: true },
    { path: 'analysis/data', dir: true },
    { path: 'analysis/data/baseline.json', text: '{"n": 42}' },
    { path: 'analysis/sample_stats.ipynb', cells: reader },
    { path: 'other', dir: true },
    { path: 'other/data', dir: true },
    { path: 'other/data/baseline.json', text: '{"n": 7}' },
    { path: 'other/sample_stats.ipynb', cells: reader }
  ]);
  await openDag(cg, 'analysis/sample_stats.ipynb', 'read');
  await page.locator('button.cg-Promote').click();
  await page.locator('.jp-Dialog-footer button', { hasText: 'Promote' }).click();
  const status = page.locator('.cg-DagPanel .cg-RunBar .cg-RunStatus');
  await expect(status).toHaveAttribute('data-status', 'succeeded', { timeout: 90000 });
  const runId = (await page.locator('.cg-DagPanel .cg-RunBar .cg-RunId').textContent()) ?? '';
  const run = await cg.get<{ workflow: string; notebookPath: string }>(`/runs/${runId}`);
  expect(run.workflow).toBe('analysis--sample_stats');
  expect(run.notebookPath).toMatch(/\/analysis\/sample_stats\.ipynb$/);
  const outputs = await cg.get<{ outputs: { name: string; value: unknown }[] }>(`/runs/${runId}/tasks/read/outputs`);
  expect(outputs.outputs.find((o) => o.name === 'baseline')?.value).toBe(42);

  // The same file name in another folder is another workflow, reading its own data.
  const other = await cg.promoteAndRun('other/sample_stats.ipynb');
  expect(other.version.workflow).toBe('other--sample_stats');
  expect(await cg.waitForRun(other.run.runId)).toBe('succeeded');
  const otherOutputs = await cg.get<{ outputs: { name: string; value: unknown }[] }>(`/runs/${other.run.runId}/tasks/read/outputs`);
  expect(otherOutputs.outputs.find((o) => o.name === 'baseline')?.value).toBe(7);
  const workflows = await cg.get<{ workflows: { workflow: string; versions: number }[] }>('/workflows');
  expect(workflows.workflows.filter((w) => w.workflow.endsWith('sample_stats')).map((w) => [w.workflow, w.versions]).sort()).toEqual([
    ['analysis--sample_stats', 1],
    ['other--sample_stats', 1]
  ]);
  expect(cg.errors).toEqual([]);
});

const TOTAL_FAILS = 'const k: number = factor;\nconst total: number = rows.reduce((a, b) => a + b, 0) * k;\nif (total > 0) throw new Error(`boom at ${total}`);';
const TOTAL_FIXED = 'const k: number = factor;\nconst total: number = rows.reduce((a, b) => a + b, 0) * k;\nconsole.log(`total ${total}`);';
const stats = (total: string): Cell[] => [
  { source: 'const double = (x: number) => x * 2;', cellgraph: { role: 'setup' } },
  { source: 'const factor = 2;', cellgraph: { role: 'parameters' } },
  { source: 'const rows: number[] = [1, 2, 3].map(double);', cellgraph: { task: 'load' } },
  { source: total, cellgraph: { task: 'total' } }
];

test('Run without promoting: parameters remembered, the failure at its cell and in the log, a notification, Re-run reuses the unchanged task, the executed notebook read-only with its parameters', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await seed(page, [{ path: 'iterate', dir: true }, { path: 'iterate/stats.ipynb', cells: stats(TOTAL_FAILS) }]);
  await openDag(cg, 'iterate/stats.ipynb', 'total');

  // The notebook toolbar's Run opens the same dialog as the DAG panel's.
  await expect(page.locator('.jp-NotebookPanel:visible .jp-Toolbar [data-command="cellgraph:run"]')).toBeVisible();
  await page.locator('.cg-DagPanel button.cg-RunNotebook').click();
  const dialog = page.locator('.cg-RunDialog');
  await expect(dialog.locator('input.cg-Param[data-param="factor"]')).toHaveValue('2');
  await dialog.locator('input.cg-Param[data-param="factor"]').fill('five');
  await expect(dialog.locator('.cg-FieldError[data-field="param.factor"]')).toContainText('must be a number');
  await expect(page.locator('.jp-Dialog-footer button.jp-mod-accept')).toBeDisabled();
  await dialog.locator('input.cg-Param[data-param="factor"]').fill('5');
  await page.locator('.jp-Dialog-content').screenshot({ path: path.join(SHOTS, 'run-dialog.png') });
  await page.locator('.jp-Dialog-footer button.jp-mod-accept', { hasText: 'Run' }).click();

  const status = page.locator('.cg-DagPanel .cg-RunBar .cg-RunStatus');
  await expect(status).toHaveAttribute('data-status', 'failed', { timeout: 90000 });
  const failedRun = (await page.locator('.cg-DagPanel .cg-RunBar .cg-RunId').textContent()) ?? '';
  // Told when it ends, with a way to open it.
  const toast = page.locator('.Toastify__toast', { hasText: `run ${failedRun}` });
  await expect(toast).toContainText('failed');
  await expect(toast).toContainText('task total: boom at 60');
  await toast.screenshot({ path: path.join(SHOTS, 'run-failed-notification.png') });

  // The error at its cell and line: on the node's details, a link that puts the cursor there.
  await cg.node('total').click();
  await expect(page.locator('.cg-TaskDetails .cg-TaskError')).toContainText('boom at 60');
  await expect(page.locator('.cg-TaskDetails .cg-ErrorAt')).toHaveText('cell 4, line 3');
  await page.locator('.cg-DagPanel').screenshot({ path: path.join(SHOTS, 'run-error-at-cell.png') });
  await page.locator('.cg-TaskDetails .cg-ErrorAt').click();
  await expect.poll(() => cg.cursor()).toEqual({ cell: 3, line: 2 });
  // ... and in the task's log, never "(no output)".
  await page.locator('.cg-TaskDetails button.cg-NodeLogs').click();
  await expect(page.locator('.cg-Logs[data-task="total"] pre.cg-LogText')).toContainText('cellgraph: task total failed at cell 4, line 3');
  await page.locator('.jp-Dialog-footer button', { hasText: 'Close' }).click();
  // A development run promotes nothing.
  const workflows = await cg.get<{ workflows: { workflow: string }[] }>('/workflows');
  expect(workflows.workflows.map((w) => w.workflow)).not.toContain('iterate--stats');

  // Fixed in the notebook, Re-run runs it as it is now; load (unchanged) comes from the cache.
  await cg.setSource(3, TOTAL_FIXED);
  await expect(page.locator('.cg-Diagnostics li.cg-error')).toHaveCount(0, { timeout: 30000 });
  await page.locator('.cg-DagPanel .cg-RunBar button.cg-Rerun').click();
  await expect(page.locator('.cg-DagPanel .cg-RunBar .cg-RunId')).not.toHaveText(failedRun, { timeout: 20000 });
  await expect(status).toHaveAttribute('data-status', 'succeeded', { timeout: 90000 });
  await expect(cg.node('load')).toHaveClass(/cg-state-cached/);
  await expect(cg.node('total')).toHaveClass(/cg-state-succeeded/);
  const fixedRun = (await page.locator('.cg-DagPanel .cg-RunBar .cg-RunId').textContent()) ?? '';
  await expect(page.locator('.Toastify__toast', { hasText: `run ${fixedRun}` })).toContainText('succeeded');

  // The dialog remembers the last values.
  await page.locator('.cg-DagPanel button.cg-RunNotebook').click();
  await expect(page.locator('.cg-RunDialog input.cg-Param[data-param="factor"]')).toHaveValue('5');
  await page.locator('.jp-Dialog-footer button', { hasText: 'Cancel' }).click();

  // The executed notebook: read-only, no kernel, a header, the injected parameters, HTML export.
  await page.locator('.cg-DagPanel .cg-RunBar button.cg-OpenNotebook').click();
  const header = page.locator('.jp-NotebookPanel:visible .cg-ExecutedHeader');
  await expect(header).toBeVisible({ timeout: 20000 });
  await expect(header).toContainText(fixedRun);
  await expect(header.locator('.cg-ExecutedParams')).toHaveText('parameters: factor = 5');
  await expect(header.locator('.cg-RunStatus')).toHaveText('succeeded');
  const cells = page.locator('.jp-NotebookPanel', { has: page.locator('.cg-ExecutedHeader') }).locator('.jp-Cell');
  await expect(cells.nth(2)).toContainText('const factor = 5;');
  await expect(page.locator('.jp-NotebookPanel:visible .jp-OutputArea-output', { hasText: 'total 60' })).toBeVisible();
  await page.locator('.jp-NotebookPanel', { has: page.locator('.cg-ExecutedHeader') }).screenshot({ path: path.join(SHOTS, 'executed-notebook.png') });
  const sessions = (await (await page.request.get('/api/sessions')).json()) as { path: string }[];
  expect(sessions.filter((s) => s.path.includes(fixedRun))).toEqual([]);
  const readOnly = await page.evaluate(() => {
    const app = (window as unknown as { jupyterapp: LabApp }).jupyterapp;
    const current = app.shell.currentWidget as { content?: { model?: { readOnly: boolean } } };
    return current.content?.model?.readOnly;
  });
  expect(readOnly).toBe(true);
  const html = await page.request.get((await header.locator('a.cg-ExportHtml').getAttribute('href')) ?? '');
  expect(html.status()).toBe(200);
  expect(await html.text()).toContain('total 60');
  expect(cg.errors).toEqual([]);
});

test('retrying a promoted version says which version it runs and offers to promote the changed notebook', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await seed(page, [{ path: 'retry', dir: true }, { path: 'retry/stats.ipynb', cells: stats(TOTAL_FAILS) }]);
  await openDag(cg, 'retry/stats.ipynb', 'total');
  await page.locator('button.cg-Promote').click();
  await page.locator('.jp-Dialog-footer button', { hasText: 'Promote' }).click();
  await expect(page.locator('.cg-DagPanel .cg-RunBar .cg-RunStatus')).toHaveAttribute('data-status', 'failed', { timeout: 90000 });
  const retry = page.locator('.cg-DagPanel .cg-RunBar button.cg-Retry');
  await expect(retry).toHaveText('Retry v1');
  await cg.setSource(3, TOTAL_FIXED);
  await expect(page.locator('.cg-Diagnostics li.cg-error')).toHaveCount(0, { timeout: 30000 });
  await retry.click();
  const dialog = page.locator('.jp-Dialog-content', { hasText: 'The notebook has changed since' });
  await expect(dialog).toContainText('retries version 1 of retry--stats');
  await page.locator('.jp-Dialog-footer button.cg-PromoteCurrent').click();
  await expect(page.locator('.cg-PromoteDialog')).toBeVisible();
  await page.locator('.jp-Dialog-footer button', { hasText: 'Promote' }).click();
  await expect(page.locator('.cg-DagPanel .cg-RunBar .cg-RunStatus')).toHaveAttribute('data-status', 'succeeded', { timeout: 90000 });
  const versions = await cg.get<{ versions: { number: number }[] }>('/workflows/retry--stats/versions');
  expect(versions.versions.map((v) => v.number)).toEqual([1, 2]);
  expect(cg.errors).toEqual([]);
});

test('small ones: the tag panel applies as typed, a bad task name keeps what was typed, an untagged notebook says how to tag from the UI', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await seed(page, [{ path: 'untagged.ipynb', cells: [{ source: 'const a = 1;' }, { source: 'const b = a + 1;' }] }]);
  await cg.openNotebook('untagged.ipynb');
  await cg.exec('cellgraph:open-dag');
  await expect(page.locator('.cg-Diagnostics li.cg-error')).toContainText('cellgraph button on the cell', { timeout: 120000 });
  await expect(page.locator('.cg-Diagnostics')).not.toContainText('metadata');

  // A bad task name: the dialog asks again, with what was typed and why.
  await activateCell(page, 0);
  await cg.exec('cellgraph:tag-task');
  await page.locator('.jp-Dialog input').fill('Load Data');
  await page.locator('.jp-Dialog-footer button.jp-mod-accept').click();
  await expect(page.locator('.jp-Dialog')).toContainText('must match');
  await expect(page.locator('.jp-Dialog input')).toHaveValue('Load Data');
  await page.locator('.jp-Dialog input').fill('load');
  await page.locator('.jp-Dialog-footer button.jp-mod-accept').click();
  await expect.poll(() => cg.metadata(0)).toMatchObject({ task: 'load' });

  // The tag panel: "After" is written as it is typed, without leaving the field.
  await cg.exec('cellgraph:open-tags');
  await expect(page.locator('.cg-TagPanel input.cg-TaskName')).toHaveValue('load');
  await page.locator('.cg-TagPanel input.cg-After').pressSequentially('prep');
  await expect.poll(() => cg.metadata(0), { timeout: 5000 }).toMatchObject({ task: 'load', after: ['prep'] });
  await expect(page.locator('.cg-TagPanel input.cg-After')).toBeFocused();
  expect(cg.errors).toEqual([]);
});
