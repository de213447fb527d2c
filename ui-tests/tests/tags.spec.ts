/**
 * Tagging cells: from the right-sidebar panel (every field validated with the schema before
 * it is written), from the cell toolbar's menu and from commands; tagged cells show a chip.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';
import { Cellgraph } from './cellgraph';

test.use({ autoGoto: false });

test('renaming a task in the tag panel updates the cell metadata and the DAG; bad values are refused inline', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openDag('hello.ipynb', 'shout');
  await cg.exec('cellgraph:open-tags');
  // The shout task starts at cell 3.
  await page.notebook.selectCells(3);
  const panel = page.locator('.cg-TagPanel');
  await expect(panel.locator('select.cg-Role')).toHaveValue('task');
  await expect(panel.locator('input.cg-TaskName')).toHaveValue('shout');

  await panel.locator('input.cg-TaskName').fill('yell');
  await panel.locator('input.cg-TaskName').press('Tab');
  await expect.poll(() => cg.metadata(3)).toMatchObject({ task: 'yell' });
  await expect(cg.node('yell')).toBeVisible({ timeout: 30000 });

  await panel.locator('input.cg-TaskName').fill('Bad Name');
  await panel.locator('input.cg-TaskName').press('Tab');
  await expect(panel.locator('.cg-FieldError[data-field="name"]')).toBeVisible();
  expect(await cg.metadata(3)).toMatchObject({ task: 'yell' });

  await panel.locator('input.cg-TaskName').fill('yell');
  await panel.locator('input.cg-Memory').fill('lots');
  await panel.locator('input.cg-Memory').press('Tab');
  await expect(panel.locator('.cg-FieldError[data-field="memory"]')).toContainText('memory quantity');
  await panel.locator('input.cg-Memory').fill('512Mi');
  await panel.locator('input.cg-Retries').fill('2');
  await panel.locator('input.cg-Retries').press('Tab');
  await expect.poll(() => cg.metadata(3)).toEqual({ task: 'yell', retries: 2, resources: { memory: '512Mi' } });
  expect(cg.errors).toEqual([]);
});

test('the cell toolbar tags a cell from its menu, and the cell shows its tag', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await page.notebook.openByPath('hello.ipynb');
  // Tagged cells show their annotation next to the prompt.
  await expect(page.locator('.jp-Cell[data-cg-role="task"] .jp-InputPrompt[data-cg-tag="task greet"]')).toHaveCount(1);
  await expect(page.locator('.jp-InputPrompt[data-cg-tag="parameters"]')).toHaveCount(1);

  await page.notebook.selectCells(3);
  const cell = page.locator('.jp-Notebook .jp-Cell').nth(3);
  await cell.hover();
  const tagButton = cell.locator('.jp-cell-toolbar [data-command="cellgraph:cell-tag-menu"]');
  await expect(tagButton).toBeVisible();
  await tagButton.click();
  const menu = page.locator('.lm-Menu.cg-CellTagMenu');
  await expect(menu).toBeVisible();
  await page.locator('.cg-CellTagMenu').screenshot({ path: path.join(__dirname, '..', 'screenshots', 'cell-toolbar-menu.png') });
  await menu.locator('.lm-Menu-itemLabel', { hasText: 'Skip this cell' }).click();
  await expect.poll(() => cg.metadata(3)).toEqual({ role: 'skip' });
  await expect(page.locator('.jp-InputPrompt[data-cg-tag="skip"]')).toHaveCount(1);

  await tagButton.click();
  await menu.locator('.lm-Menu-itemLabel', { hasText: 'Make this cell a task' }).click();
  await page.locator('.jp-Dialog input').fill('shout');
  await page.locator('.jp-Dialog-footer button.jp-mod-accept').click();
  await expect.poll(() => cg.metadata(3)).toEqual({ task: 'shout' });
  await expect(page.locator('.jp-InputPrompt[data-cg-tag="task shout"]')).toHaveCount(1);
  expect(cg.errors).toEqual([]);
});

test('the tag commands set and clear a cell’s annotation; a bad task name is refused', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await page.notebook.openByPath('hello.ipynb');
  await page.notebook.selectCells(3);
  await cg.exec('cellgraph:tag-skip');
  await expect.poll(() => cg.metadata(3)).toEqual({ role: 'skip' });
  await cg.exec('cellgraph:tag-task');
  await page.locator('.jp-Dialog input').fill('loud');
  await page.locator('.jp-Dialog-footer button.jp-mod-accept').click();
  await expect.poll(() => cg.metadata(3)).toEqual({ task: 'loud' });
  await cg.exec('cellgraph:tag-task');
  await page.locator('.jp-Dialog input').fill('Not A Name');
  await page.locator('.jp-Dialog-footer button.jp-mod-accept').click();
  await expect(page.locator('.jp-Dialog')).toContainText(/Task name/);
  await page.locator('.jp-Dialog-footer button').first().click();
  expect(await cg.metadata(3)).toEqual({ task: 'loud' });
  await cg.exec('cellgraph:clear-tag');
  await expect.poll(() => cg.metadata(3)).toBeNull();
  expect(cg.errors).toEqual([]);
});
