/**
 * The runs sidebar: runs with their status and executed notebook, shown on the DAG,
 * promoted workflows with their versions, and schedules with their next fire times,
 * paused, resumed and deleted from the panel. And the server-down state: one clear banner.
 */
import { expect, galata, test } from '@jupyterlab/galata';
import * as path from 'path';
import { Cellgraph } from './cellgraph';

test.use({ autoGoto: false });

test('lists a finished run, opens its executed notebook and shows it on the DAG; a schedule shows its next fires, pauses, resumes and is deleted', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  // A promoted, finished run and a schedule, made through the API as another client would.
  const promoted = await cg.promoteAndRun('hello.ipynb');
  const runId = promoted.run.runId;
  const schedule = await cg.post<{ id: string }>('/schedules', { id: 'hello-nightly', workflow: promoted.version.workflow, version: promoted.version.version, cron: '0 2 * * *', timezone: 'UTC' });
  expect(await cg.waitForRun(runId)).toBe('succeeded');

  await cg.exec('cellgraph:open-runs');
  const panel = page.locator('.cg-RunsPanel');
  const run = panel.locator(`.cg-Run[data-run-id="${runId}"]`);
  await expect(panel.locator('.cg-ServerDown')).toBeHidden();
  await expect(run.locator('.cg-RunStatus')).toHaveText('succeeded', { timeout: 30000 });

  // The workflow's versions, and running one again from the list.
  const workflow = panel.locator('.cg-Version[data-workflow="hello"]');
  await expect(workflow).toContainText('hello v');
  await workflow.locator('.cg-VersionHead').click();
  await expect(workflow.locator('.cg-VersionItem').first()).toBeVisible();
  const runsBefore = await panel.locator('.cg-Run').count();
  // The version promoted above, by its number: the newest may be another spec's (promote.spec's last one sleeps
  // 60 s in greet, so its run ended after the 30 s this waits for the notice below).
  await workflow.locator(`.cg-VersionItem[data-version="${promoted.version.number}"] button.cg-RunVersion`).click();
  // It asks for the parameters (the last ones used for the workflow, else the defaults).
  await expect(page.locator('.cg-RunDialog input.cg-Param[data-param="name"]')).toBeVisible();
  await page.locator('.jp-Dialog-footer button.jp-mod-accept', { hasText: 'Run' }).click();
  await expect.poll(() => panel.locator('.cg-Run').count(), { timeout: 20000 }).toBeGreaterThan(runsBefore);
  // A run started from the sidebar is announced when it ends, as the DAG panel's runs are.
  await expect(page.locator('.Toastify__toast', { hasText: /cellgraph: \S*hello\S* run r-\S+ succeeded/ }).first()).toBeVisible({ timeout: 30000 });
  await panel.screenshot({ path: path.join(__dirname, '..', 'screenshots', 'runs-panel.png') });

  // Following the run on the DAG of its notebook.
  await cg.openDag('hello.ipynb', 'greet');
  await cg.exec('cellgraph:open-runs');
  await run.locator('button.cg-ShowOnDag').click();
  await expect(page.locator('.cg-DagPanel .cg-RunBar .cg-RunId')).toHaveText(runId);
  // Succeeded, or served from the cache when an earlier spec ran hello with the same values.
  await expect(cg.node('shout')).toHaveClass(/cg-state-(succeeded|cached)/);

  // Its executed notebook, with the run's outputs.
  await cg.exec('cellgraph:open-runs');
  await run.locator('.cg-OpenNotebook').click();
  await expect(page.locator(`.lm-TabBar-tab[data-type="document-title"] >> text=${runId}.ipynb`)).toBeVisible({ timeout: 20000 });
  await expect(page.locator('.jp-NotebookPanel:visible .jp-OutputArea-output').first()).toBeVisible();

  await cg.exec('cellgraph:open-runs');
  const item = panel.locator(`.cg-Schedule[data-schedule-id="${schedule.id}"]`);
  await expect(item.locator('.cg-ScheduleState')).toHaveText('active');
  await expect(item.locator('.cg-NextFires li').first()).toBeVisible();
  await item.locator('.cg-Pause').click();
  await expect(item.locator('.cg-ScheduleState')).toHaveText('paused');
  await item.locator('.cg-Resume').click();
  await expect(item.locator('.cg-ScheduleState')).toHaveText('active');
  await item.locator('.cg-Delete').click();
  await page.locator('.jp-Dialog-footer button', { hasText: 'Delete' }).click();
  await expect(item).toHaveCount(0);
  expect(cg.errors).toEqual([]);
});

test.describe('with the server URL set to one nothing answers', () => {
  // Port 1 is never served on 127.0.0.1 here; settings are Galata's in-memory mock, per test.
  test.use({ mockSettings: { ...galata.DEFAULT_SETTINGS, '@cellgraph/jupyterlab:settings': { serverUrl: 'http://127.0.0.1:1/' } } });

  test('the server being unreachable is said once, clearly, in each panel', async ({ page }) => {
    const cg = new Cellgraph(page);
    await page.goto();
    await page.notebook.openByPath('hello.ipynb');
    await cg.exec('cellgraph:open-dag');
    const banner = page.locator('.cg-DagPanel .cg-ServerDown');
    await expect(banner).toBeVisible({ timeout: 30000 });
    await expect(banner).toContainText('http://127.0.0.1:1/');
    await expect(banner).toContainText('not reachable');
    await expect(page.locator('.cg-DagPanel .cg-ServerDown:visible')).toHaveCount(1);
    await expect(page.locator('.cg-Diagnostics li')).toHaveCount(0);
    await cg.exec('cellgraph:open-runs');
    await expect(page.locator('.cg-RunsPanel .cg-ServerDown')).toBeVisible();
    await page.locator('.cg-DagPanel').screenshot({ path: path.join(__dirname, '..', 'screenshots', 'server-down.png') });
    expect(cg.errors).toEqual([]);
  });
});
