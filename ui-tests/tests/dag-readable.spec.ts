/**
 * A DAG that stays readable (issue 15, point 3), in a real JupyterLab and Chromium: no two
 * edge labels overlap (bounding boxes of the rendered labels, measured in the browser) at 6
 * and at 200 tasks; long labels compact with their full types on hover; zoom, pan and fit; a
 * minimap past 30 nodes; parameters collapsible; a spinner until the first compile; the
 * failure reason on the failed node; the notebook toolbar's DAG button and the cell context
 * menu; chips with their full text on hover; the cell toolbar button stays on long lines.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';
import { Cellgraph } from './cellgraph';
import { failingNotebook, layeredNotebook, measureLabelOverlaps, seed, sixTaskNotebook } from './dag-fixtures';

test.use({ autoGoto: false });

const shots = path.join(__dirname, '..', 'screenshots');

test.beforeAll(() => {
  seed('six.ipynb', sixTaskNotebook());
  seed('dag200.ipynb', layeredNotebook(200, 12));
  seed('failing.ipynb', failingNotebook());
});

/** The visible DAG's zoom transform (`translate(x,y) scale(k)`). */
const transform = (cg: Cellgraph) => cg.page.locator('.cg-DagPanel:visible g.cg-Viewport').getAttribute('transform');

test('6 tasks: a spinner until the first compile, then no overlapping labels; compact labels keep their types on hover; zoom, fit, parameters collapse', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openNotebook('six.ipynb');
  await cg.exec('cellgraph:open-dag');
  // The first compile takes a moment: the panel says so instead of staying blank.
  await expect(page.locator('.cg-DagPanel .cg-DagLoading')).toBeVisible();
  await expect(cg.node('report')).toBeVisible({ timeout: 60000 });
  await expect(page.locator('.cg-DagPanel .cg-DagLoading')).toHaveCount(0);
  await expect(page.locator('g.cg-Node')).toHaveCount(6);

  const overlaps = await measureLabelOverlaps(page);
  console.log(`6-task DAG: ${overlaps.labels} edge labels, ${overlaps.labelPairs.length} overlapping label pairs, ${overlaps.labelNodePairs.length} label/node overlaps`);
  expect(overlaps.labels).toBe(9);
  expect(overlaps.labelPairs).toEqual([]);
  expect(overlaps.labelNodePairs).toEqual([]);

  // A long label is compact; its full types are its tooltip.
  const compact = page.locator('g.cg-Edge[data-from="load"][data-to="quantiles"]');
  await expect(compact.locator('text.cg-EdgeLabel')).toHaveText('rows');
  await expect(compact.locator('text.cg-EdgeLabel')).toHaveAttribute('data-compact', 'true');
  await expect(compact.locator('> title')).toHaveText('rows: { id: number; value: number; label: string; }[]');
  await page.locator('.cg-DagPanel').screenshot({ path: path.join(shots, 'dag-six.png') });

  // Zoom in, then Fit brings the whole DAG back.
  const fitted = await transform(cg);
  await page.locator('.cg-DagPanel button.cg-ZoomIn').click();
  await expect.poll(() => transform(cg)).not.toBe(fitted);
  await page.locator('.cg-DagPanel button.cg-Fit').click();
  await expect.poll(() => transform(cg)).toBe(fitted);
  // Wheel zoom and drag pan (d3-zoom) change it too.
  const canvas = page.locator('.cg-DagPanel svg.cg-DagCanvas');
  const box = (await canvas.boundingBox()) as { x: number; y: number; width: number; height: number };
  await page.mouse.move(box.x + 20, box.y + box.height - 20);
  await page.mouse.down();
  await page.mouse.move(box.x + 120, box.y + box.height - 60, { steps: 5 });
  await page.mouse.up();
  await expect.poll(() => transform(cg)).not.toBe(fitted);

  // Parameters collapse: no parameter nodes, the tasks stay.
  await expect(page.locator('g.cg-ParamNode')).toHaveCount(2);
  await page.locator('.cg-DagPanel .cg-ToggleParams input').uncheck();
  await expect(page.locator('g.cg-ParamNode')).toHaveCount(0);
  await expect(page.locator('g.cg-Node')).toHaveCount(6);
  await page.locator('.cg-DagPanel .cg-ToggleParams input').check();
  await expect(page.locator('g.cg-ParamNode')).toHaveCount(2);
  expect(cg.errors).toEqual([]);
});

test('200 tasks: drawn fitted with a minimap, and no two of its labels overlap', async ({ page }) => {
  test.setTimeout(240000);
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openNotebook('dag200.ipynb');
  const t0 = Date.now();
  await cg.exec('cellgraph:open-dag');
  await expect(page.locator('.cg-DagPanel g.cg-Node')).toHaveCount(200, { timeout: 180000 });
  console.log(`200-task DAG drawn ${((Date.now() - t0) / 1000).toFixed(1)} s after opening (server compile included)`);
  await expect(page.locator('.cg-DagPanel svg.cg-Minimap')).toBeVisible();
  await expect(page.locator('.cg-DagPanel svg.cg-Minimap rect.cg-MinimapViewport')).toHaveCount(1);
  // Fitted: the whole drawing is inside the panel.
  const canvas = (await page.locator('.cg-DagPanel svg.cg-DagCanvas').boundingBox()) as { x: number; y: number; width: number; height: number };
  const drawing = (await page.locator('.cg-DagPanel g.cg-Viewport').boundingBox()) as { x: number; y: number; width: number; height: number };
  expect(drawing.x).toBeGreaterThanOrEqual(canvas.x - 1);
  expect(drawing.x + drawing.width).toBeLessThanOrEqual(canvas.x + canvas.width + 1);
  expect(drawing.y + drawing.height).toBeLessThanOrEqual(canvas.y + canvas.height + 1);

  const overlaps = await measureLabelOverlaps(page);
  console.log(`200-task DAG: ${overlaps.labels} edge labels, ${overlaps.labelPairs.length} overlapping label pairs, ${overlaps.labelNodePairs.length} label/node overlaps`);
  expect(overlaps.labels).toBeGreaterThan(300);
  expect(overlaps.labelPairs).toEqual([]);
  expect(overlaps.labelNodePairs).toEqual([]);
  await page.locator('.cg-DagPanel').screenshot({ path: path.join(shots, 'dag-200.png') });

  // Clicking the minimap moves the view there.
  const before = await transform(cg);
  await page.locator('.cg-DagPanel svg.cg-Minimap').click({ position: { x: 5, y: 5 } });
  await expect.poll(() => transform(cg)).not.toBe(before);
  expect(cg.errors).toEqual([]);
});

test('the failed task says why on its node', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  const promoted = await cg.promoteAndRun('failing.ipynb');
  expect(await cg.waitForRun(promoted.run.runId)).toBe('failed');
  await cg.openDag('failing.ipynb', 'quantiles');
  await page.evaluate((runId) => {
    const app = (window as unknown as { jupyterapp: { shell: { widgets(a: string): IterableIterator<{ follow?: (id: string) => void; id: string }> } } }).jupyterapp;
    for (const w of app.shell.widgets('main')) if (w.id.startsWith('cg-dag-') && w.follow) w.follow(runId);
  }, promoted.run.runId);
  const failed = cg.node('quantiles');
  await expect(failed).toHaveClass(/cg-state-failed/, { timeout: 30000 });
  await expect(failed.locator('text.cg-NodeError')).toContainText('ENOENT: no such');
  await expect(failed.locator('title')).toContainText("open 'data/baseline.json'");
  await expect(cg.node('prepare').locator('text.cg-NodeError')).toHaveText('');
  expect(cg.errors).toEqual([]);
});

test('the notebook toolbar opens the DAG; the cell menu tags a cell and shows its task in the DAG; chips show their full text; the cell toolbar button stays on long lines', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openNotebook('six.ipynb');
  const toolbarButton = page.locator('.jp-NotebookPanel:visible .jp-NotebookPanel-toolbar [data-command="cellgraph:open-dag"]');
  await expect(toolbarButton).toBeVisible();
  await toolbarButton.click();
  await expect(cg.node('stats')).toBeVisible({ timeout: 60000 });

  // Right-click the `stats` cell: "Show this cell in the DAG" selects its task.
  await cg.openNotebook('six.ipynb');
  const cell = page.locator('.jp-NotebookPanel:visible .jp-Cell').nth(3);
  await cell.locator('.jp-InputPrompt').click({ button: 'right' });
  const menu = page.locator('.lm-Menu');
  await expect(menu.locator('.lm-Menu-itemLabel', { hasText: 'cellgraph: Make this cell a task…' })).toBeVisible();
  await menu.locator('.lm-Menu-itemLabel', { hasText: 'cellgraph: Show this cell in the DAG' }).click();
  await expect(cg.node('stats')).toHaveClass(/cg-selected/);
  await expect(page.locator('.cg-TaskDetails[data-task="stats"]')).toBeVisible();

  // The chip is cut to the prompt's width; its whole text is the prompt's tooltip.
  await cg.openNotebook('six.ipynb');
  await expect(page.locator('.jp-NotebookPanel:visible .jp-Cell').nth(4).locator('.jp-InputPrompt')).toHaveAttribute('title', 'cellgraph: task quantiles');

  // A cell whose first line runs under the cell toolbar: JupyterLab hides the toolbar, our button stays.
  await cg.setSource(2, `const cleaned: number[] = rows.map((r) => r.value).filter((v) => v > 3 && v < 1000 && v !== 42 && v !== 43 && v !== 44 && v !== 45 && v !== 46);`);
  await page.locator('.jp-NotebookPanel:visible .jp-Cell').nth(2).locator('.jp-InputPrompt').click();
  const active = page.locator('.jp-NotebookPanel:visible .jp-Cell.jp-mod-active');
  await expect(active).toHaveClass(/jp-toolbar-overlap/, { timeout: 10000 });
  await expect(active.locator('.jp-cell-toolbar [data-command="cellgraph:cell-tag-menu"]')).toBeVisible();
  expect(cg.errors).toEqual([]);
});
