/**
 * Tagging cells from the right-sidebar panel: a change is validated with the schema and
 * written to the cell's metadata, and the DAG follows; a bad value is refused inline.
 */
import { expect, test } from '@jupyterlab/galata';

test.use({ autoGoto: false });

type App = {
  commands: { execute(id: string): Promise<unknown> };
  shell: { activateById(id: string): void; currentWidget: { content: { activeCellIndex: number; model: { cells: { get(i: number): { getMetadata(k: string): unknown } } } } } };
};

test('renaming a task in the tag panel updates the cell metadata and the DAG; a bad name is refused', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto();
  await page.notebook.openByPath('hello.ipynb');
  await page.evaluate(() => (window as unknown as { jupyterapp: App }).jupyterapp.commands.execute('cellgraph:open-dag'));
  await expect(page.locator('g.cg-Node[data-task="shout"]')).toBeVisible({ timeout: 30000 });
  // The shout task starts at cell 3.
  await page.evaluate(() => (window as unknown as { jupyterapp: App }).jupyterapp.shell.activateById('cg-tag-panel'));
  await page.notebook.selectCells(3);
  const panel = page.locator('.cg-TagPanel');
  await expect(panel.locator('select.cg-Role')).toHaveValue('task');
  await expect(panel.locator('input.cg-TaskName')).toHaveValue('shout');

  await panel.locator('input.cg-TaskName').fill('yell');
  await panel.locator('input.cg-TaskName').press('Tab');
  const metadata = () =>
    page.evaluate(() => {
      type Cells = { get(i: number): { getMetadata(k: string): unknown } };
      const app = (window as unknown as { jupyterapp: { shell: { widgets(area: string): IterableIterator<{ content?: { model?: { cells?: Cells } } }> } } }).jupyterapp;
      const notebook = [...app.shell.widgets('main')].find((w) => w.content?.model?.cells !== undefined);
      return notebook?.content?.model?.cells?.get(3).getMetadata('cellgraph');
    });
  await expect.poll(metadata).toMatchObject({ task: 'yell' });
  await expect(page.locator('g.cg-Node[data-task="yell"]')).toBeVisible({ timeout: 30000 });

  await panel.locator('input.cg-TaskName').fill('Bad Name');
  await panel.locator('input.cg-TaskName').press('Tab');
  await expect(panel.locator('.cg-FieldError[data-field="name"]')).toBeVisible();
  expect(await metadata()).toMatchObject({ task: 'yell' });

  await panel.locator('input.cg-TaskName').fill('yell');
  await panel.locator('input.cg-Memory').fill('lots');
  await panel.locator('input.cg-Memory').press('Tab');
  await expect(panel.locator('.cg-FieldError[data-field="memory"]')).toContainText('memory quantity');
  expect(errors).toEqual([]);
});

test('the tag commands set and clear a cell’s annotation; a bad task name is refused', async ({ page }) => {
  await page.goto();
  await page.notebook.openByPath('hello.ipynb');
  await page.notebook.selectCells(3);
  const exec = (id: string) => page.evaluate((command) => void (window as unknown as { jupyterapp: App }).jupyterapp.commands.execute(command), id);
  const metadata = () =>
    page.evaluate(() => {
      type Cells = { get(i: number): { getMetadata(k: string): unknown } };
      const app = (window as unknown as { jupyterapp: { shell: { widgets(area: string): IterableIterator<{ content?: { model?: { cells?: Cells } } }> } } }).jupyterapp;
      const notebook = [...app.shell.widgets('main')].find((w) => w.content?.model?.cells !== undefined);
      return notebook?.content?.model?.cells?.get(3).getMetadata('cellgraph') ?? null;
    });
  await exec('cellgraph:tag-skip');
  await expect.poll(metadata).toEqual({ role: 'skip' });
  await exec('cellgraph:tag-task');
  await page.locator('.jp-Dialog input').fill('loud');
  await page.locator('.jp-Dialog-footer button.jp-mod-accept').click();
  await expect.poll(metadata).toEqual({ task: 'loud' });
  await exec('cellgraph:tag-task');
  await page.locator('.jp-Dialog input').fill('Not A Name');
  await page.locator('.jp-Dialog-footer button.jp-mod-accept').click();
  await expect(page.locator('.jp-Dialog')).toContainText(/Task name/);
  await page.locator('.jp-Dialog-footer button').first().click();
  expect(await metadata()).toEqual({ task: 'loud' });
  await exec('cellgraph:clear-tag');
  await expect.poll(metadata).toBeNull();
});
