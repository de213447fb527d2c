/**
 * The runs sidebar: runs with their status and executed notebook, promoted workflows, and
 * schedules with their next fire times, paused and resumed from the panel.
 */
import { expect, test } from '@jupyterlab/galata';

test.use({ autoGoto: false });

test('lists a finished run and opens its executed notebook; a schedule shows its next fires, pauses, resumes and is deleted', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto();
  // A promoted, finished run and a schedule, made through the API as another client would.
  const promoted = (await (await page.request.post('/cellgraph/api/v1/workflows/promote', { data: { notebookPath: 'hello.ipynb', run: true } })).json()) as {
    version: { workflow: string; version: string };
    run: { runId: string };
  };
  const runId = promoted.run.runId;
  const schedule = (await (
    await page.request.post('/cellgraph/api/v1/schedules', { data: { id: 'hello-nightly', workflow: promoted.version.workflow, version: promoted.version.version, cron: '0 2 * * *', timezone: 'UTC' } })
  ).json()) as { id: string };

  await page.evaluate(() => (window as unknown as { jupyterapp: { commands: { execute(id: string): Promise<unknown> } } }).jupyterapp.commands.execute('cellgraph:open-runs'));
  const run = page.locator(`.cg-RunsPanel .cg-Run[data-run-id="${runId}"]`);
  await expect(page.locator('.cg-RunsPanel .cg-ServerDown')).toBeHidden();
  await expect(run.locator('.cg-RunStatus')).toHaveText('succeeded', { timeout: 60000 });
  await expect(page.locator('.cg-RunsPanel .cg-Version').first()).toContainText('hello');

  await run.locator('.cg-OpenNotebook').click();
  await expect(page.locator(`.lm-TabBar-tab[data-type="document-title"] >> text=${runId}.ipynb`)).toBeVisible({ timeout: 20000 });
  await expect(page.locator('.jp-NotebookPanel:visible .jp-OutputArea-output').first()).toBeVisible();

  await page.evaluate(() => (window as unknown as { jupyterapp: { commands: { execute(id: string): Promise<unknown> } } }).jupyterapp.commands.execute('cellgraph:open-runs'));
  const item = page.locator(`.cg-RunsPanel .cg-Schedule[data-schedule-id="${schedule.id}"]`);
  await expect(item.locator('.cg-ScheduleState')).toHaveText('active');
  await expect(item.locator('.cg-NextFires li').first()).toBeVisible();
  await item.locator('.cg-Pause').click();
  await expect(item.locator('.cg-ScheduleState')).toHaveText('paused');
  await item.locator('.cg-Resume').click();
  await expect(item.locator('.cg-ScheduleState')).toHaveText('active');
  await item.locator('.cg-Delete').click();
  await page.locator('.jp-Dialog-footer button', { hasText: 'Delete' }).click();
  await expect(item).toHaveCount(0);
  expect(errors).toEqual([]);
});
