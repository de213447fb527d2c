/**
 * The cellgraph extension in a real JupyterLab: it loads cleanly, and the DAG panel shows
 * the typed DAG of a notebook compiled by the cellgraph server that JupyterLab started
 * through jupyter-server-proxy, follows edits, and leads from the compiler's errors to the
 * cell and line they name.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';
import { Cellgraph, type LabApp } from './cellgraph';

test.use({ autoGoto: false });

test('loads without console errors and lists the extension as enabled', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto();
  await expect(page.locator('#jp-main-dock-panel')).toBeVisible();
  const plugins = await page.evaluate(() =>
    ['server', 'settings', 'dag', 'tags', 'runs'].map((p) => (window as unknown as { jupyterapp: LabApp }).jupyterapp.hasPlugin(`@cellgraph/jupyterlab:${p}`))
  );
  expect(plugins).toEqual([true, true, true, true, true]);
  expect(errors).toEqual([]);
});

test('shows the typed DAG of hello: tasks, the edge labelled with the value and its type, the parameters', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openDag('hello.ipynb', 'greet');
  await expect(cg.node('shout')).toBeVisible();
  await expect(page.locator('g.cg-Edge[data-from="greet"][data-to="shout"] text.cg-EdgeLabel')).toHaveText('message: string');
  await expect(page.locator('g.cg-ParamNode[data-param="name"]')).toBeVisible();
  await expect(page.locator('g.cg-Edge[data-from="param:excitement"][data-to="shout"]')).toHaveCount(1);
  await expect(page.locator('.cg-DagPanel .cg-ServerDown')).toBeHidden();
  await page.locator('.cg-DagPanel').screenshot({ path: path.join(__dirname, '..', 'screenshots', 'dag-hello.png') });
  // The drawing itself, against the committed baseline (run ids and times are not in it).
  await expect(page.locator('.cg-DagView svg.cg-DagCanvas')).toHaveScreenshot('dag-hello.png', { maxDiffPixelRatio: 0.02, animations: 'disabled' });

  // Clicking a node selects its cells and shows its typed interface.
  await cg.node('shout').click();
  await expect(page.locator('.cg-TaskDetails[data-task="shout"]')).toContainText('message: string (from greet)');
  expect((await cg.cursor()).cell).toBe(3);
  expect(cg.errors).toEqual([]);
});

test('follows edits: a task added to the notebook appears a moment later, with its typed input', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openDag('iris.ipynb', 'load');
  await expect(page.locator('g.cg-Node')).toHaveCount(5);
  await cg.appendCell('const winner = results.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));\nconsole.log(winner.model);', { task: 'pick-best' });
  await expect(cg.node('pick-best')).toBeVisible({ timeout: 30000 });
  await expect(page.locator('g.cg-Node')).toHaveCount(6);
  // Its type is long: the label is compact (the value's name), the full type the edge's tooltip.
  const edge = page.locator('g.cg-Edge[data-from="compare"][data-to="pick-best"]');
  await expect(edge.locator('text.cg-EdgeLabel')).toHaveText('results');
  await expect(edge.locator('> title')).toContainText('results: {');
  expect(cg.errors).toEqual([]);
});

test('the DAG panel comes back after a reload, beside its notebook', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  // JupyterLab writes the layout to the workspace a moment after it changes: reload after that.
  const layoutSaved = page.waitForRequest(
    (r) => {
      if (r.method() !== 'PUT' || !r.url().includes('/api/workspaces/')) return false;
      const layout = (JSON.parse(r.postData() ?? '{}') as { data?: Record<string, unknown> }).data?.['layout-restorer:data'];
      return JSON.stringify(layout ?? {}).includes('cellgraph-dag:hello.ipynb');
    },
    { timeout: 60000 }
  );
  await cg.openDag('hello.ipynb', 'greet');
  await layoutSaved;
  // Galata's readiness check looks for the launcher, which a restored layout does not show;
  // its reload takes `waitForIsReady`, though the fixture's type is Playwright's own reload.
  await (page as unknown as { reload(options: { waitForIsReady: boolean }): Promise<unknown> }).reload({ waitForIsReady: false });
  await expect(page.locator('.lm-TabBar-tab >> text=DAG: hello.ipynb')).toBeVisible({ timeout: 30000 });
  await expect(cg.node('shout')).toBeVisible({ timeout: 30000 });
  expect(cg.errors).toEqual([]);
});

test('a cycle made by editing `after` shows an error on the nodes and in the list, which leads to the cell', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openDag('hello.ipynb', 'greet');
  // greet must now also wait for shout, which reads greet's value: a cycle.
  await cg.setMetadata(2, { task: 'greet', after: ['shout'] });
  const diagnostic = page.locator('.cg-Diagnostics li.cg-Diagnostic').first();
  await expect(diagnostic).toContainText(/cycle/i, { timeout: 30000 });
  await expect(page.locator('g.cg-Node.cg-has-error').first()).toBeVisible();
  // The last DAG stays drawn while the notebook does not compile.
  await expect(cg.node('shout')).toBeVisible();
  const cell = Number(await diagnostic.getAttribute('data-cell'));
  await diagnostic.click();
  expect((await cg.cursor()).cell).toBe(cell);
  await page.locator('.cg-DagPanel').screenshot({ path: path.join(__dirname, '..', 'screenshots', 'dag-cycle.png') });
  expect(cg.errors).toEqual([]);
});

test("a type error's entry puts the cursor on the cell and line it names", async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openDag('hello.ipynb', 'greet');
  await cg.setSource(3, 'import { display } from "@cellgraph/kernel";\n\nconst n: number = message;\ndisplay.html(`<b>${n}</b>`);');
  const diagnostic = page.locator('.cg-Diagnostics li.cg-Diagnostic[data-cell="3"]').first();
  await expect(diagnostic).toContainText(/not assignable to type 'number'/, { timeout: 30000 });
  expect(await diagnostic.getAttribute('data-line')).toBe('3');
  await diagnostic.click();
  await expect.poll(() => cg.cursor()).toEqual({ cell: 3, line: 2 });
  expect(cg.errors).toEqual([]);
});
