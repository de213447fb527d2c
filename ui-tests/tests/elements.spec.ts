/**
 * A foreach task's elements in the DAG panel (issue 17, point 4): while a run is live and
 * after it, the foreach node counts its elements by state, coloured; its details list the
 * elements (state, attempts, duration, error), filtered by state, and a picked element opens
 * its own logs; a task whose condition is false shows as skipped, with why (tooltip and details).
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';
import { API, Cellgraph, type Cell, seed } from './cellgraph';

// Tall enough for the DAG and the elements list in one docs picture.
test.use({ autoGoto: false, viewport: { width: 1400, height: 1200 } });
// A cold first compile and a dozen task processes on a small shared machine.
test.setTimeout(240_000);

/** Six elements, two at a time, each a second long; element 4 fails (at most half may); the report is skipped by its condition. */
const sweep: Cell[] = [
  { source: 'const n = 6;', cellgraph: { role: 'parameters' } },
  { source: 'const ids: number[] = Array.from({ length: n }, (_, i) => i);', cellgraph: { task: 'make' } },
  {
    source: 'await new Promise((r) => setTimeout(r, 1000));\nconsole.log(`working on element ${id}`);\nif (id === 4) throw new Error(`element ${id} has a bad configuration`);\nconst score: number = id * 10;',
    cellgraph: { task: 'work', foreach: 'ids', as: 'id', maxParallel: 2, minSuccessRatio: 0.5, cache: false }
  },
  { source: 'const best: number = Math.max(...score.filter((s): s is number => s !== undefined));', cellgraph: { task: 'pick' } },
  { source: 'console.log(`publishing ${best}`);', cellgraph: { task: 'publish', when: 'best > 1000' } }
];

test('a foreach node counts its elements live; its details list them and open one element’s logs; a false condition shows skipped', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await expect.poll(async () => (await page.request.get(`${API}/health`)).status(), { timeout: 90000, intervals: [1000] }).toBe(200);
  await seed(page, [{ path: 'foreach', dir: true }, { path: 'foreach/sweep.ipynb', cells: sweep }]);
  await cg.openNotebook('foreach/sweep.ipynb');
  await cg.exec('cellgraph:open-dag');
  await expect(cg.node('work')).toBeVisible({ timeout: 120000 });

  await page.locator('.cg-DagPanel button.cg-RunNotebook').click();
  await page.locator('.jp-Dialog-footer button.jp-mod-accept', { hasText: 'Run' }).click();

  // Live: elements running, counted on the node before the task ends.
  const caption = cg.node('work').locator('text.cg-NodeCaption.cg-NodeElements');
  await expect(caption.locator('tspan.cg-el-running')).toBeVisible({ timeout: 90000 });
  await expect(caption.locator('tspan.cg-ElementTotal')).toHaveText('/ 6');

  const status = page.locator('.cg-DagPanel .cg-RunBar .cg-RunStatus');
  await expect(status).toHaveAttribute('data-status', 'succeeded', { timeout: 90000 });
  // After: 5 succeeded, 1 failed, coloured by state.
  await expect(caption).toHaveText('5 ✓ 1 ✗ / 6');
  await expect(caption.locator('tspan.cg-el-failed')).toHaveText('1 ✗ ');
  expect(await caption.locator('tspan.cg-el-failed').evaluate((e) => getComputedStyle(e).fill)).not.toBe(await caption.locator('tspan.cg-el-succeeded').evaluate((e) => getComputedStyle(e).fill));
  // The condition was false: skipped, and said so.
  await expect(cg.node('publish')).toHaveClass(/cg-state-skipped/);
  await expect(cg.node('publish').locator('text.cg-NodeCaption')).toHaveText('skipped');
  // Why it did not run: in the node's tooltip.
  await expect(cg.node('publish').locator('title')).toContainText('publish: skipped\ncondition false: best > 1000');

  // The node's details list its elements.
  await cg.node('work').click();
  const details = page.locator('.cg-TaskDetails');
  await expect(details.locator('.cg-TaskElements td')).toHaveText('6 elements: 5 succeeded, 1 failed');
  const rows = details.locator('.cg-ElementsTable tr.cg-Element');
  await expect(rows).toHaveCount(6);
  await expect(details.locator('.cg-ElementsStatus')).toHaveText('1–6 of 6');
  await expect(rows.nth(4)).toHaveAttribute('data-state', 'failed');
  await expect(rows.nth(4).locator('.cg-ElementError')).toContainText('element 4 has a bad configuration');
  // The run's notification would cover the list in the picture.
  await cg.exec('apputils:dismiss-notification');
  await expect(page.locator('.Toastify__toast')).toHaveCount(0);
  await page.locator('.cg-DagPanel').screenshot({ path: path.join(__dirname, '..', 'screenshots', 'dag-foreach-elements.png') });

  // Filtered by state: only the failed one.
  await details.locator('select.cg-ElementsFilter').selectOption('failed');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-element', '4');
  // Picking it opens its own logs, not the other elements'.
  await rows.first().click();
  const logs = page.locator('.cg-Logs[data-task="work"][data-element="4"]');
  await expect(logs.locator('pre.cg-LogText')).toContainText('working on element 4');
  await expect(logs.locator('pre.cg-LogText')).toContainText('element 4 has a bad configuration');
  await expect(logs.locator('pre.cg-LogText')).not.toContainText('working on element 3');
  await expect(page.locator('.jp-Dialog-header')).toContainText('Logs of work[4]');
  await page.locator('.jp-Dialog-footer button', { hasText: 'Close' }).click();

  await details.locator('select.cg-ElementsFilter').selectOption('');
  await rows.nth(2).click();
  await expect(page.locator('.cg-Logs[data-element="2"] pre.cg-LogText')).toContainText('working on element 2');
  await page.locator('.jp-Dialog-footer button', { hasText: 'Close' }).click();

  // The skipped task's details say why it did not run.
  await cg.node('publish').click();
  await expect(page.locator('.cg-TaskDetails[data-task="publish"] .cg-TaskState td')).toHaveText('skipped');
  await expect(page.locator('.cg-TaskDetails[data-task="publish"] .cg-TaskSkipReason td')).toHaveText('condition false: best > 1000');
  expect(cg.errors).toEqual([]);
});
