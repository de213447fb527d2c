/**
 * The DAG panel docked narrow beside its notebook (~400 px and ~320 px wide): the toolbar
 * stays one row with every control visible, inside the panel, clickable and above the graph
 * (never over it); a followed run's bar is one line of its own whose actions stay reachable.
 */
import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import * as path from 'path';
import { Cellgraph } from './cellgraph';

test.use({ autoGoto: false });

const SHOTS = path.join(__dirname, '..', 'screenshots');

/** The toolbar's controls, each a selector inside `.cg-DagToolbar`. */
const CONTROLS = ['button.cg-RunNotebook', 'button.cg-Promote', 'button.cg-Fit', 'button.cg-ZoomIn', 'button.cg-ZoomOut', '.cg-ToggleParams input'];

/** Drags the dock's split handle left of the DAG panel until the panel is `width` px wide. */
async function dockWidth(page: IJupyterLabPageFixture, width: number): Promise<void> {
  const panel = page.locator('.cg-DagPanel');
  const box = await panel.boundingBox();
  if (box === null) throw new Error('the DAG panel is not shown');
  // The handle between the notebook and the DAG: the one whose right edge meets the panel's left edge.
  const handle = await page.evaluate((left) => {
    const handles = [...document.querySelectorAll('.lm-DockPanel-handle')].map((h) => h.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0 && r.width < 20);
    const near = handles.sort((a, b) => Math.abs(a.right - left) - Math.abs(b.right - left))[0];
    return near === undefined ? null : { x: near.left + near.width / 2, y: near.top + near.height / 2 };
  }, box.x);
  if (handle === null) throw new Error('no dock handle beside the DAG panel');
  await page.mouse.move(handle.x, handle.y);
  await page.mouse.down();
  await page.mouse.move(handle.x + (box.width - width), handle.y, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => Math.round((await panel.boundingBox())?.width ?? 0)).toBeLessThanOrEqual(width + 4);
  await expect.poll(async () => Math.round((await panel.boundingBox())?.width ?? 0)).toBeGreaterThanOrEqual(width - 4);
}

/** The toolbar's controls are one row (its first), inside the panel, uncovered, above the graph; the toolbar no taller than that row (and a run bar's). */
async function expectOneRowAllReachable(page: IJupyterLabPageFixture): Promise<void> {
  const panel = page.locator('.cg-DagPanel');
  const toolbar = panel.locator('.cg-DagToolbar');
  const panelBox = (await panel.boundingBox())!;
  const bar = (await toolbar.boundingBox())!;
  let tallest = 0;
  const first = (await toolbar.locator(CONTROLS[0]).boundingBox())!;
  const rowMiddle = first.y + first.height / 2;
  for (const selector of CONTROLS) {
    const control = toolbar.locator(selector);
    await expect(control, selector).toBeVisible();
    const box = (await control.boundingBox())!;
    tallest = Math.max(tallest, box.height);
    // Inside the panel, not clipped at its right edge.
    expect(box.x, selector).toBeGreaterThanOrEqual(panelBox.x);
    expect(box.x + box.width, selector).toBeLessThanOrEqual(panelBox.x + panelBox.width + 0.5);
    // On the toolbar's first row: its middle level with the Run button's.
    expect(box.y, selector).toBeGreaterThanOrEqual(bar.y - 0.5);
    expect(Math.abs(box.y + box.height / 2 - rowMiddle), selector).toBeLessThanOrEqual(4);
    // Nothing drawn over it: what the browser hits at its centre is the control (or inside it).
    const hit = await control.evaluate((c) => {
      const r = c.getBoundingClientRect();
      const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return top !== null && (top === c || c.contains(top));
    });
    expect(hit, `${selector} is not covered`).toBe(true);
  }
  // A followed run's bar is a row of its own under the controls (its one line is checked by the test).
  const runBar = await panel.locator('.cg-RunBar').boundingBox();
  const runRow = runBar === null || runBar.height === 0 ? 0 : runBar.height + 4;
  expect(bar.height, 'the controls are one row').toBeLessThanOrEqual(tallest + 4 + runRow);
  // Above the graph, never over it.
  const scroller = (await panel.locator('.cg-DagScroller').boundingBox())!;
  expect(bar.y + bar.height).toBeLessThanOrEqual(scroller.y + 0.5);
  // The words folded away stay in the tooltips and accessible names.
  await expect(toolbar.locator('button.cg-Promote')).toHaveAttribute('aria-label', 'Promote to production');
  await expect(toolbar.locator('.cg-ToggleParams')).toHaveAttribute('title', /parameters/);
}

test('a narrow DAG panel keeps its toolbar on one row, every control reachable; a run bar is one line of its own', async ({ page }) => {
  const cg = new Cellgraph(page);
  await page.goto();
  await cg.openDag('hello.ipynb', 'greet');
  const panel = page.locator('.cg-DagPanel');

  for (const width of [400, 320]) {
    await dockWidth(page, width);
    await expectOneRowAllReachable(page);
  }
  // Reachable means usable: the view controls still act on the graph.
  const transform = () => panel.locator('g.cg-Viewport').getAttribute('transform');
  const before = await transform();
  await panel.locator('button.cg-ZoomIn').click();
  await expect.poll(transform).not.toBe(before);
  await panel.locator('.cg-ToggleParams input').uncheck();
  await expect(panel.locator('g.cg-ParamNode')).toHaveCount(0);
  await panel.locator('.cg-ToggleParams input').check();
  await panel.locator('button.cg-Fit').click();

  // A run at ~400 px: the toolbar keeps its row, the run bar is one line under it, its actions whole.
  await dockWidth(page, 400);
  await panel.locator('button.cg-RunNotebook').click();
  // A name of its own: with the default one, greet would be cached for promote.spec, which expects it to run.
  await page.locator('.cg-RunDialog input.cg-Param[data-param="name"]').fill('narrow panel');
  await page.locator('.jp-Dialog-footer button.jp-mod-accept', { hasText: 'Run' }).click();
  const status = panel.locator('.cg-RunBar .cg-RunStatus');
  await expect(status).toHaveAttribute('data-status', /succeeded|failed/, { timeout: 90000 });
  await expectOneRowAllReachable(page);
  const runBar = (await panel.locator('.cg-RunBar').boundingBox())!;
  const panelBox = (await panel.boundingBox())!;
  for (const action of ['button.cg-RunLogs', 'button.cg-OpenNotebook', 'button.cg-CloseRun']) {
    const box = (await panel.locator(`.cg-RunBar ${action}`).boundingBox())!;
    expect(box.x + box.width, action).toBeLessThanOrEqual(panelBox.x + panelBox.width + 0.5);
    expect(box.height, action).toBeGreaterThan(runBar.height / 2 - 1);
  }
  const tallestAction = (await panel.locator('.cg-RunBar button.cg-RunLogs').boundingBox())!.height;
  expect(runBar.height, 'the run bar is one line').toBeLessThanOrEqual(tallestAction + 8);
  // Its facts, shortened with an ellipsis, stay whole in the tooltip.
  await expect(panel.locator('.cg-RunBar .cg-RunInfo')).toHaveAttribute('title', /run r-\S+: (succeeded|failed)/);
  await panel.screenshot({ path: path.join(SHOTS, 'dag-narrow.png') });
  expect(cg.errors).toEqual([]);
});
