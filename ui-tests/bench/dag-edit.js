/**
 * What a user waits for, in a real JupyterLab and Debian's Chromium (figures printed, never
 * asserted): first-DAG time (the DAG panel opened -> every node drawn: the cellgraph server's
 * compile, the layout and the render; the very first also starts the server) at 6 and 200
 * tasks, each a notebook the server has not compiled before (it caches compiles by content),
 * and edit-to-DAG time on the 200-task notebook (a cell's task renamed -> the renamed
 * node drawn: the re-compile delay of 600 ms, the compile, layout and render).
 */
const fs = require('fs');
const path = require('path');
const { inLab, layeredNotebook, median, run, startLab } = require('./lab');

const DEBOUNCE_MS = 600;

/** Opens a notebook and its DAG panel; ms until `tasks` nodes are drawn in it. */
async function firstDag(page, file, tasks) {
  await page.evaluate(async (p) => void (await window.jupyterapp.commands.execute('docmanager:open', { path: p, factory: 'Notebook' })), file);
  await page.waitForFunction((p) => window.jupyterapp.shell.currentWidget?.context?.path === p, file, { timeout: 60000 });
  const t0 = Date.now();
  await page.evaluate(async () => void (await window.jupyterapp.commands.execute('cellgraph:open-dag')));
  await page.waitForFunction((n) => document.querySelectorAll('.cg-DagPanel:not(.lm-mod-hidden) g.cg-Node').length === n, tasks, { timeout: 300000, polling: 50 });
  return Date.now() - t0;
}

async function closeAll(page) {
  await page.evaluate(async () => {
    for (const w of window.jupyterapp.shell.widgets('main')) if (w.context?.model) w.context.model.dirty = false;
    await window.jupyterapp.commands.execute('application:close-all');
  });
  await page.waitForFunction(() => document.querySelectorAll('.cg-DagPanel').length === 0);
}

async function main() {
  const lab = await startLab(18874, {
    seed: (root) => {
      for (let salt = 0; salt < 4; salt++) {
        fs.writeFileSync(path.join(root, `dag6-${salt}.ipynb`), JSON.stringify(layeredNotebook(6, 2, salt)));
        if (salt < 3) fs.writeFileSync(path.join(root, `dag200-${salt}.ipynb`), JSON.stringify(layeredNotebook(200, 12, salt)));
      }
    }
  });
  await inLab('dag-edit', lab, 18874, async (page) => {

    const cold = await firstDag(page, 'dag6-3.ipynb', 6);
    console.log(`  first DAG, 6 tasks, cold (the cellgraph server starts): ${(cold / 1000).toFixed(2)} s`);
    await closeAll(page);
    const six = [];
    for (let i = 0; i < 3; i++) {
      six.push(await firstDag(page, `dag6-${i}.ipynb`, 6));
      await closeAll(page);
    }
    console.log(`first-DAG time, 6 tasks (server running): ${median(six).toFixed(0)} ms (median of 3)`);
    const big = [];
    for (let i = 0; i < 3; i++) {
      big.push(await firstDag(page, `dag200-${i}.ipynb`, 200));
      if (i < 2) await closeAll(page);
    }
    console.log(`first-DAG time, 200 tasks (server running): ${median(big).toFixed(0)} ms (median of 3: ${big.map((m) => (m / 1000).toFixed(1)).join(', ')} s)`);

    const edits = [];
    for (let k = 0; k < 5; k++) {
      const name = `t199-e${k}`;
      const t0 = await page.evaluate((task) => {
        const nb = [...window.jupyterapp.shell.widgets('main')].find((w) => w.content?.model?.cells);
        const start = Date.now();
        nb.content.model.cells.get(199).setMetadata('cellgraph', { task });
        return start;
      }, name);
      await page.waitForFunction((task) => document.querySelector(`.cg-DagPanel:not(.lm-mod-hidden) g.cg-Node[data-task="${task}"]`) !== null, name, { timeout: 120000, polling: 50 });
      edits.push(Date.now() - t0);
    }
    const layout = await page.evaluate(() => performance.getEntriesByName('cellgraph:layout').slice(-5).map((e) => e.duration));
    const render = await page.evaluate(() => performance.getEntriesByName('cellgraph:render').slice(-5).map((e) => e.duration));
    console.log(`edit-to-DAG time, 200 tasks: ${median(edits).toFixed(0)} ms (median of 5; includes the ${DEBOUNCE_MS} ms re-compile delay; layout ${median(layout).toFixed(1)} ms + render ${median(render).toFixed(1)} ms of it)`);
  });
}

run(main);
