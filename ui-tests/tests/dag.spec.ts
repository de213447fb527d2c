/**
 * The cellgraph extension in a real JupyterLab: it loads cleanly, and the DAG panel shows
 * the typed DAG of a notebook compiled by the cellgraph server that JupyterLab started
 * through jupyter-server-proxy, and the compiler's errors, which lead to their cell.
 */
import { expect, type IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import * as path from 'path';

test.use({ autoGoto: false });

/** Opens a notebook from the seeded root and its DAG panel. */
async function openDag(page: IJupyterLabPageFixture, notebook: string) {
  await page.notebook.openByPath(notebook);
  await page.evaluate(() => (window as unknown as { jupyterapp: { commands: { execute(id: string): Promise<unknown> } } }).jupyterapp.commands.execute('cellgraph:open-dag'));
  await expect(page.locator('.cg-DagPanel')).toBeVisible();
}

test('loads without console errors and lists the extension as enabled', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto();
  await expect(page.locator('#jp-main-dock-panel')).toBeVisible();
  const plugins = await page.evaluate(() => (window as unknown as { jupyterapp: { hasPlugin(id: string): boolean } }).jupyterapp.hasPlugin('@cellgraph/jupyterlab:dag'));
  expect(plugins).toBe(true);
  expect(errors).toEqual([]);
});

test('shows the typed DAG of hello: tasks, the edge labelled with the value and its type, the parameters', async ({ page }) => {
  await page.goto();
  await openDag(page, 'hello.ipynb');
  await expect(page.locator('g.cg-Node[data-task="greet"]')).toBeVisible({ timeout: 30000 });
  await expect(page.locator('g.cg-Node[data-task="shout"]')).toBeVisible();
  await expect(page.locator('g.cg-Edge[data-from="greet"][data-to="shout"] text.cg-EdgeLabel')).toHaveText('message: string');
  await expect(page.locator('g.cg-ParamNode[data-param="name"]')).toBeVisible();
  await expect(page.locator('.cg-DagPanel .cg-ServerDown')).toBeHidden();
  await page.locator('.cg-DagPanel').screenshot({ path: path.join(__dirname, '..', 'screenshots', 'dag-hello.png') });
  // The drawing itself, against the committed baseline (run ids and times are not in it).
  await expect(page.locator('svg.cg-DagView')).toHaveScreenshot('dag-hello.png', { maxDiffPixelRatio: 0.02, animations: 'disabled' });
});

test('a cycle made by editing `after` shows an error on the nodes and in the list, which leads to the cell', async ({ page }) => {
  await page.goto();
  await openDag(page, 'hello.ipynb');
  await expect(page.locator('g.cg-Node[data-task="greet"]')).toBeVisible({ timeout: 30000 });
  // greet must now also wait for shout, which reads greet's value: a cycle.
  await page.evaluate(() => {
    const app = (window as unknown as { jupyterapp: { shell: { currentWidget: unknown } } }).jupyterapp;
    const notebook = (app.shell.currentWidget as { content: { model: { cells: { length: number; get(i: number): { getMetadata(k: string): unknown; setMetadata(k: string, v: unknown): void } } } } }).content;
    const cells = notebook.model.cells;
    for (let i = 0; i < cells.length; i++) {
      const a = cells.get(i).getMetadata('cellgraph') as { task?: string } | undefined;
      if (a?.task === 'greet') cells.get(i).setMetadata('cellgraph', { ...a, after: ['shout'] });
    }
  });
  const diagnostic = page.locator('.cg-Diagnostics li.cg-Diagnostic').first();
  await expect(diagnostic).toContainText(/cycle/i, { timeout: 30000 });
  await expect(page.locator('g.cg-Node.cg-has-error').first()).toBeVisible();
  const cell = Number(await diagnostic.getAttribute('data-cell'));
  await diagnostic.click();
  const active = await page.evaluate(() => ((window as unknown as { jupyterapp: { shell: { currentWidget: { content: { activeCellIndex: number } } } } }).jupyterapp.shell.currentWidget.content.activeCellIndex));
  expect(active).toBe(cell);
});
