/**
 * Promote to production from the DAG panel: the dialog shows the parameters (typed, with
 * their defaults), refuses bad values inline, and previews an optional cron schedule live;
 * promoting runs hello on the cellgraph server, the DAG follows the run until every node
 * has succeeded (with durations), a task's logs and the executed notebook open from the
 * panel, and the schedule exists with its next fire times.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';
import { Cellgraph } from './cellgraph';

test.use({ autoGoto: false });

const SHOTS = path.join(__dirname, '..', 'screenshots');

test('promotes hello with a schedule: the run is followed on the DAG to success; logs and the executed notebook open', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openDag('hello.ipynb', 'shout');

  await page.locator('button.cg-Promote').click();
  const dialog = page.locator('.cg-PromoteDialog');
  const accept = page.locator('.jp-Dialog-footer button', { hasText: 'Promote' });
  await expect(dialog.locator('input.cg-Param[data-param="name"]')).toHaveValue('world');
  await expect(dialog.locator('input.cg-Param[data-param="excitement"]')).toHaveValue('3');
  await expect(dialog.locator('select.cg-Target')).toContainText('local processes');
  // A number parameter refuses text, inline, and Promote waits for a fix.
  await dialog.locator('input.cg-Param[data-param="excitement"]').fill('three');
  await expect(dialog.locator('.cg-FieldError[data-field="param.excitement"]')).toContainText('must be a number');
  await expect(accept).toBeDisabled();
  await dialog.locator('input.cg-Param[data-param="excitement"]').fill('2');
  await expect(accept).toBeEnabled();
  // A bad cron expression is refused by the server's preview, naming why.
  await dialog.locator('input.cg-Cron').fill('61 * * * *');
  await expect(dialog.locator('.cg-FieldError[data-field="cron"]')).toBeVisible({ timeout: 10000 });
  await expect(accept).toBeDisabled();
  await dialog.locator('input.cg-Param[data-param="name"]').fill('Galata');
  await dialog.locator('input.cg-Timezone').fill('Europe/Berlin');
  await dialog.locator('input.cg-Cron').fill('30 6 * * 1-5');
  await expect(dialog.locator('.cg-CronPreview')).toContainText('06:30', { timeout: 10000 });
  await expect(dialog.locator('.cg-NextFires li')).toHaveCount(5);
  await expect(accept).toBeEnabled();
  await page.locator('.jp-Dialog-content').screenshot({ path: path.join(SHOTS, 'promote-dialog.png') });
  await accept.click();

  const status = page.locator('.cg-DagPanel .cg-RunBar .cg-RunStatus');
  await expect(status).toHaveAttribute('data-status', 'succeeded', { timeout: 90000 });
  for (const task of ['greet', 'shout']) {
    await expect(cg.node(task)).toHaveClass(/cg-state-succeeded/);
    await expect(cg.node(task).locator('text.cg-NodeCaption')).toHaveText(/^succeeded · [0-9.]+ m?s$/);
  }
  await page.locator('.cg-DagPanel').screenshot({ path: path.join(SHOTS, 'dag-run-succeeded.png') });
  // The drawing of a finished run, against the committed baseline (captions hold durations: masked).
  await expect(page.locator('.cg-DagView svg.cg-DagCanvas')).toHaveScreenshot('dag-run-succeeded.png', { mask: [page.locator('text.cg-NodeCaption')], maxDiffPixelRatio: 0.02, animations: 'disabled' });

  // A task's logs, from its node.
  await cg.node('greet').click();
  await expect(page.locator('.cg-TaskDetails .cg-TaskState')).toContainText('succeeded');
  await page.locator('.cg-TaskDetails button.cg-NodeLogs').click();
  await expect(page.locator('.cg-Logs[data-task="greet"] pre.cg-LogText')).toContainText('Hello, Galata');
  await page.locator('.jp-Dialog-footer button', { hasText: 'Close' }).click();

  // The executed notebook, with the run's outputs.
  const runId = await page.locator('.cg-DagPanel .cg-RunBar .cg-RunId').textContent();
  await page.locator('.cg-DagPanel .cg-RunBar button.cg-OpenNotebook').click();
  await expect(page.locator(`.lm-TabBar-tab[data-type="document-title"] >> text=${runId}.ipynb`)).toBeVisible({ timeout: 20000 });
  await expect(page.locator('.jp-NotebookPanel:visible .jp-OutputArea-output', { hasText: 'Hello, Galata' }).first()).toBeVisible();

  // The schedule was created on the promoted version, with its next fires.
  const schedules = await cg.get<{ schedules: { workflow: string; cron: string; timezone: string; params: Record<string, unknown>; nextFires: string[] }[] }>('/schedules');
  const created = schedules.schedules.find((s) => s.workflow === 'hello' && s.cron === '30 6 * * 1-5');
  expect(created).toMatchObject({ timezone: 'Europe/Berlin', params: { name: 'Galata', excitement: 2 } });
  expect(created?.nextFires.length).toBeGreaterThan(0);
  expect(cg.errors).toEqual([]);
});

test('a failing run shows the failed task and its error; retry reruns only what failed; cancel stops a run', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openDag('hello.ipynb', 'shout');
  // shout throws when excitement is negative.
  await cg.setSource(3, 'import { display } from "@cellgraph/kernel";\n\nif (excitement < 0) throw new RangeError("excitement must be >= 0");\nconst shouted = message.toUpperCase() + "!".repeat(excitement);\ndisplay.html(`<h3>${shouted}</h3>`);');
  await expect(page.locator('.cg-Diagnostics li.cg-error')).toHaveCount(0, { timeout: 30000 });
  await page.locator('button.cg-Promote').click();
  await page.locator('.cg-PromoteDialog input.cg-Param[data-param="excitement"]').fill('-1');
  await page.locator('.jp-Dialog-footer button', { hasText: 'Promote' }).click();
  const status = page.locator('.cg-DagPanel .cg-RunBar .cg-RunStatus');
  await expect(status).toHaveAttribute('data-status', 'failed', { timeout: 90000 });
  await expect(cg.node('greet')).toHaveClass(/cg-state-succeeded/);
  await expect(cg.node('shout')).toHaveClass(/cg-state-failed/);
  await cg.node('shout').click();
  await expect(page.locator('.cg-TaskDetails .cg-TaskError')).toContainText('excitement must be >= 0');

  // Retry: a new run of the same version; greet is reused, shout fails again.
  const first = await page.locator('.cg-DagPanel .cg-RunBar .cg-RunId').textContent();
  await page.locator('.cg-DagPanel .cg-RunBar button.cg-Retry').click();
  await expect(page.locator('.cg-DagPanel .cg-RunBar .cg-RunId')).not.toHaveText(first ?? '', { timeout: 20000 });
  await expect(status).toHaveAttribute('data-status', 'failed', { timeout: 90000 });
  await expect(cg.node('greet')).toHaveClass(/cg-state-cached/);
  await expect(cg.node('greet').locator('text.cg-NodeCaption')).toHaveText('cached');

  // Cancel: a run of a notebook whose task sleeps, cancelled from the DAG panel.
  await cg.setSource(2, 'const message = `Hello, ${name}`;\nawait new Promise((r) => setTimeout(r, 60_000));\nconsole.log(message);');
  await cg.setSource(3, 'import { display } from "@cellgraph/kernel";\n\nconst shouted = message.toUpperCase() + "!".repeat(excitement);\ndisplay.html(`<h3>${shouted}</h3>`);');
  await expect(page.locator('.cg-Diagnostics li.cg-error')).toHaveCount(0, { timeout: 30000 });
  await page.locator('button.cg-Promote').click();
  await page.locator('.jp-Dialog-footer button', { hasText: 'Promote' }).click();
  await expect(cg.node('greet')).toHaveClass(/cg-state-running/, { timeout: 60000 });
  await page.locator('.cg-DagPanel .cg-RunBar button.cg-Cancel').click();
  await expect(status).toHaveAttribute('data-status', 'cancelled', { timeout: 30000 });
  expect(cg.errors).toEqual([]);
});
