/**
 * Promote to production from the DAG panel: the dialog shows the parameters (typed, with
 * their defaults) and a live preview of an optional cron schedule; promoting runs hello on
 * the cellgraph server, the DAG follows the run until every node has succeeded, and the
 * schedule exists with its next fire times.
 */
import { expect, test } from '@jupyterlab/galata';

test.use({ autoGoto: false });

test('promotes hello with a schedule: the run is followed on the DAG to success', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto();
  await page.notebook.openByPath('hello.ipynb');
  await page.evaluate(() => (window as unknown as { jupyterapp: { commands: { execute(id: string): Promise<unknown> } } }).jupyterapp.commands.execute('cellgraph:open-dag'));
  await expect(page.locator('g.cg-Node[data-task="shout"]')).toBeVisible({ timeout: 30000 });

  await page.locator('button.cg-Promote').click();
  const dialog = page.locator('.cg-PromoteDialog');
  await expect(dialog.locator('input.cg-Param[data-param="name"]')).toHaveValue('world');
  await expect(dialog.locator('input.cg-Param[data-param="excitement"]')).toHaveValue('3');
  await dialog.locator('input.cg-Param[data-param="name"]').fill('Galata');
  await dialog.locator('input.cg-Timezone').fill('Europe/Berlin');
  await dialog.locator('input.cg-Cron').fill('30 6 * * 1-5');
  await expect(dialog.locator('.cg-CronPreview')).toContainText('06:30', { timeout: 10000 });
  await expect(dialog.locator('.cg-NextFires li')).toHaveCount(5);
  await page.locator('.cg-PromoteDialog').screenshot({ path: `${__dirname}/../screenshots/promote-dialog.png` });
  await page.locator('.jp-Dialog-footer button', { hasText: 'Promote' }).click();

  await expect(page.locator('.cg-RunStatus')).toHaveAttribute('data-status', 'succeeded', { timeout: 90000 });
  for (const task of ['greet', 'shout']) await expect(page.locator(`g.cg-Node[data-task="${task}"]`)).toHaveClass(/cg-state-succeeded/);
  await page.locator('.cg-DagPanel').screenshot({ path: `${__dirname}/../screenshots/dag-run-succeeded.png`, mask: [page.locator('.cg-RunId')] });

  // The schedule was created on the promoted version, with its next fires.
  const schedules = (await (await page.request.get('/cellgraph/api/v1/schedules')).json()) as { schedules: { workflow: string; cron: string; timezone: string; nextFires: string[] }[] };
  const created = schedules.schedules.find((s) => s.workflow === 'hello' && s.cron === '30 6 * * 1-5');
  expect(created).toMatchObject({ timezone: 'Europe/Berlin' });
  expect(created?.nextFires.length).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});
