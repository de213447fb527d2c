/**
 * Runs you can compare, and schedules made in the UI (issue 15, points 4 and 7), in a real
 * JupyterLab and Chromium: the runs table of a workflow (status, version, trigger, params,
 * duration, cached count, metrics) with filter and search; two runs side by side; a metric
 * over runs; a run's timeline; the schedule editor (name, cron previewed with its zone, an
 * IANA zone picker, parameters, policies, cache policy, webhook); `cached` badges; links from
 * a schedule to its last runs.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';
import { Cellgraph } from './cellgraph';

test.use({ autoGoto: false });

const shots = path.join(__dirname, '..', 'screenshots');

test('the runs of iris: a table with trigger, cached count and metrics; filter and search; two runs compared; a metric charted; a timeline', async ({ page }) => {
  test.setTimeout(300000);
  const cg = new Cellgraph(page);
  await page.goto();
  // Three runs as a user would make them: two parameter sets, then the first again (all cached).
  const first = await cg.promoteAndRun('iris.ipynb', { k: 3, epochs: 20 });
  expect(await cg.waitForRun(first.run.runId)).toBe('succeeded');
  const versionPath = `/workflows/${first.version.workflow}/versions/1/runs`;
  const second = await cg.post<{ runId: string }>(versionPath, { params: { k: 7, epochs: 40 } });
  expect(await cg.waitForRun(second.runId)).toBe('succeeded');
  const third = await cg.post<{ runId: string }>(versionPath, { params: { k: 3, epochs: 20 } });
  expect(await cg.waitForRun(third.runId)).toBe('succeeded');

  await cg.exec('cellgraph:open-runs');
  const sidebar = page.locator('.cg-RunsPanel');
  // The sidebar says a run was served from the cache.
  await expect(sidebar.locator(`.cg-Run[data-run-id="${third.runId}"] .cg-CachedBadge`)).toHaveText(/^\d+ cached$/, { timeout: 30000 });
  await sidebar.locator('.cg-Version[data-workflow="iris"] button.cg-OpenRuns').click();

  const view = page.locator('.cg-RunsView');
  // Room for the table (the screenshots are its docs pictures).
  await page.evaluate(() => (window as unknown as { jupyterapp: { shell: { collapseLeft(): void } } }).jupyterapp.shell.collapseLeft());
  const unscroll = () => view.evaluate((e) => e.scrollTo(0, 0));
  await expect(view.locator('tr.cg-RunRow')).toHaveCount(3, { timeout: 30000 });
  const row = (id: string) => view.locator(`tr.cg-RunRow[data-run-id="${id}"]`);
  await expect(row(first.run.runId).locator('.cg-RunTrigger')).toHaveText('manual');
  await expect(row(first.run.runId).locator('.cg-RunVersion')).toHaveText('v1');
  await expect(row(second.runId).locator('.cg-RunParams')).toContainText('k=7');
  await expect(row(second.runId).locator('.cg-RunMetrics')).toContainText('accuracy');
  await expect(row(third.runId).locator('.cg-CachedBadge')).toHaveText(/^[1-9]\d* cached$/);
  await expect(row(first.run.runId).locator('.cg-CachedBadge')).toHaveCount(0);

  // Search and filter.
  await view.locator('input.cg-RunSearch').fill('k=7');
  await expect(view.locator('tr.cg-RunRow')).toHaveCount(1);
  await view.locator('input.cg-RunSearch').fill('');
  await view.locator('select.cg-FilterStatus').selectOption('failed');
  await expect(view.locator('tr.cg-RunRow')).toHaveCount(0);
  await view.locator('select.cg-FilterStatus').selectOption('');
  await expect(view.locator('tr.cg-RunRow')).toHaveCount(3);

  // Two runs side by side: their parameters differ, their tasks' states and durations are there.
  await expect(view.locator('button.cg-CompareRuns')).toBeDisabled();
  await row(first.run.runId).locator('input.cg-Pick').check();
  await row(second.runId).locator('input.cg-Pick').check();
  await view.locator('button.cg-CompareRuns').click();
  const compare = view.locator('.cg-CompareTable');
  await expect(compare.locator('tr[data-section="param"][data-key="k"]')).toHaveClass(/cg-differs/);
  await expect(compare.locator('tr[data-section="param"][data-key="k"] td')).toHaveText(['3', '7']);
  await expect(compare.locator('tr[data-section="param"][data-key="seed"]')).not.toHaveClass(/cg-differs/);
  await expect(compare.locator('tr[data-section="task"][data-key="softmax"] td').first()).toHaveText(/^succeeded · /);
  await expect(compare.locator('tr[data-section="metric"]').first()).toBeVisible();
  await unscroll();
  await view.locator('.cg-CompareView').screenshot({ path: path.join(shots, 'runs-compare.png') });

  // A metric over the runs (one point per run that logged it).
  const metric = await view.locator('select.cg-MetricSelect option').first().getAttribute('value');
  expect(metric).not.toBe('');
  await expect(view.locator('svg.cg-MetricChart circle.cg-ChartPoint')).toHaveCount(3);

  // The timeline of the first run: a bar for each task's time queued and running.
  await row(first.run.runId).locator('button.cg-ShowTimeline').click();
  const gantt = view.locator(`svg.cg-Gantt[data-run-id="${first.run.runId}"]`);
  await expect(gantt.locator('rect.cg-Span[data-task="softmax"][data-state="running"]')).toHaveCount(1);
  await expect(gantt.locator('rect.cg-Span[data-state="queued"]').first()).toBeVisible();
  // The cached run's timeline marks its cached tasks.
  await unscroll();
  await view.locator('.cg-TimelineView').screenshot({ path: path.join(shots, 'run-timeline.png') });
  await row(third.runId).locator('button.cg-ShowTimeline').click();
  await expect(view.locator(`svg.cg-Gantt[data-run-id="${third.runId}"] rect.cg-Span[data-state="cached"]`).first()).toBeVisible();
  await unscroll();
  await page.locator('.cg-RunsView').screenshot({ path: path.join(shots, 'runs-table.png') });
  expect(cg.errors).toEqual([]);
});

test('schedules in the UI: created and edited with a zone picker, parameters, policies and cache policy; the zone said once; links to its runs', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  const promoted = await cg.promoteAndRun('hello.ipynb');
  expect(await cg.waitForRun(promoted.run.runId)).toBe('succeeded');
  await cg.exec('cellgraph:open-runs');
  const sidebar = page.locator('.cg-RunsPanel');
  await sidebar.locator('.cg-Version[data-workflow="hello"] button.cg-NewSchedule').click();

  const dialog = page.locator('.jp-Dialog .cg-ScheduleEditor');
  const save = page.locator('.jp-Dialog-footer button.jp-mod-accept');
  await expect(dialog).toBeVisible();
  await dialog.locator('input.cg-Schedule-name').fill('nightly greeting');
  await dialog.locator('input.cg-Schedule-id').fill('hello-edited');
  await dialog.locator('input.cg-Schedule-cron').fill('0 2 * * *');
  // The zone is picked from the IANA zones the browser knows.
  expect(await dialog.locator('select.cg-Schedule-timezone option').count()).toBeGreaterThan(300);
  await dialog.locator('select.cg-Schedule-timezone').selectOption('Europe/Berlin');
  await expect(dialog.locator('.cg-CronPreview')).toHaveText('At 02:00, every day (Europe/Berlin)', { timeout: 10000 });
  await expect(dialog.locator('.cg-NextFires li').first()).toHaveText(/02:00 \(Europe\/Berlin\)$/);
  // A bad parameter value is refused next to its field.
  const param = dialog.locator('input.cg-Param[data-param="excitement"]');
  const good = await param.inputValue();
  await param.fill('very');
  await expect(dialog.locator('.cg-FieldError[data-field="params.excitement"]')).toBeVisible();
  await expect(save).toBeDisabled();
  await param.fill('5');
  await expect(save).toBeEnabled();
  expect(good).toBe('3');
  await dialog.locator('select.cg-Schedule-concurrencyPolicy').selectOption('Replace');
  await dialog.locator('select.cg-Schedule-missedRunPolicy').selectOption('runOnce');
  await dialog.locator('select.cg-Schedule-cachePolicy').selectOption('recompute');
  await dialog.locator('input.cg-Schedule-webhookUrl').fill('not a url');
  await expect(dialog.locator('.cg-FieldError[data-field="webhookUrl"]')).toBeVisible();
  await dialog.locator('input.cg-Schedule-webhookUrl').fill('');
  await dialog.evaluate((e) => e.scrollTo(0, 0));
  await page.locator('.jp-Dialog-content').screenshot({ path: path.join(shots, 'schedule-editor.png') });
  await save.click();

  const item = sidebar.locator('.cg-Schedule[data-schedule-id="hello-edited"]');
  await expect(item.locator('.cg-ScheduleHead')).toContainText('nightly greeting (hello-edited): hello', { timeout: 20000 });
  // The zone once (it was printed twice), and every next fire with its zone.
  await expect(item.locator('.cg-ScheduleWhen')).toHaveText('0 2 * * * · At 02:00, every day (Europe/Berlin) · Replace · recompute');
  await expect(item.locator('.cg-NextFires li').first()).toHaveText(/\(Europe\/Berlin\)$/);
  const stored = await cg.get<{ name: string; cachePolicy: string; timezone: string; params: Record<string, unknown>; concurrencyPolicy: string; missedRunPolicy: string }>('/schedules/hello-edited');
  expect(stored).toMatchObject({ name: 'nightly greeting', cachePolicy: 'recompute', timezone: 'Europe/Berlin', params: { excitement: 5 }, concurrencyPolicy: 'Replace', missedRunPolicy: 'runOnce' });

  // Edit: the cron, the cache policy back to reuse.
  await item.locator('button.cg-EditSchedule').click();
  await expect(dialog.locator('input.cg-Schedule-cron')).toHaveValue('0 2 * * *');
  await dialog.locator('input.cg-Schedule-cron').fill('30 6 * * 1-5');
  await dialog.locator('select.cg-Schedule-cachePolicy').selectOption('reuse');
  await expect(dialog.locator('.cg-CronPreview')).toContainText('06:30', { timeout: 10000 });
  await save.click();
  await expect(item.locator('.cg-ScheduleWhen')).toHaveText(/^30 6 \* \* 1-5 · .*\(Europe\/Berlin\) · Replace · reuse cache$/, { timeout: 20000 });
  expect(await cg.get<{ cachePolicy: string; cron: string }>('/schedules/hello-edited')).toMatchObject({ cachePolicy: 'reuse', cron: '30 6 * * 1-5' });

  // Schedule -> its runs.
  await item.locator('button.cg-ScheduleRunsLink').click();
  await expect(page.locator('.cg-RunsView h2')).toHaveText('Runs of hello');
  expect(cg.errors).toEqual([]);
});
