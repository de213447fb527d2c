/**
 * Notebooks the DAG readability specs seed into JupyterLab's root, and the label-overlap
 * measure they take in the browser.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from '@playwright/test';

type Cell = { cell_type: 'code'; id: string; source: string; metadata: Record<string, unknown>; outputs: []; execution_count: null };

function notebook(cells: { source: string; cellgraph?: unknown }[]): string {
  const list: Cell[] = cells.map((c, i) => ({ cell_type: 'code', id: `c${i}`, source: c.source, metadata: c.cellgraph !== undefined ? { cellgraph: c.cellgraph } : {}, outputs: [], execution_count: null }));
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } }, cells: list });
}

/** Six tasks in a diamond and a fan, several edges carrying long types (what overlapped at 4-6 tasks). */
export function sixTaskNotebook(): string {
  return notebook([
    { source: 'const n = 100;\nconst seed = 7;', cellgraph: { role: 'parameters' } },
    { source: 'const rows: { id: number; value: number; label: string }[] = Array.from({ length: n }, (_, i) => ({ id: i, value: (i * 37) % 101, label: `r${i}` }));', cellgraph: { task: 'load' } },
    { source: 'const cleaned: number[] = rows.map((r) => r.value).filter((v) => v > 3);', cellgraph: { task: 'clean' } },
    { source: 'const mean: number = rows.reduce((a, r) => a + r.value, 0) / rows.length + seed * 0;\nconst sd: number = Math.sqrt(rows.reduce((a, r) => a + (r.value - mean) ** 2, 0) / rows.length);', cellgraph: { task: 'stats' } },
    { source: 'const q: Map<string, number> = new Map([["p50", [...cleaned].sort((a, b) => a - b)[Math.floor(cleaned.length / 2)]], ["n", rows.length]]);', cellgraph: { task: 'quantiles' } },
    { source: 'const table: Record<string, number | string>[] = [{ count: cleaned.length, mean: mean, sd: sd, p50: q.get("p50") ?? 0 }];', cellgraph: { task: 'merge' } },
    { source: 'console.log(JSON.stringify(table), sd);', cellgraph: { task: 'report' } }
  ]);
}

/** `n` tasks, `width` a layer, each reading two values of the layer above (the benchmark's shape). */
export function layeredNotebook(n: number, width: number): string {
  const cells: { source: string; cellgraph: unknown }[] = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const inputs = layer === 0 ? [] : [...new Set([0, 1].map((k) => (layer - 1) * width + ((i + k) % width)))];
    const expr = inputs.length === 0 ? String(i) : inputs.map((j) => `v${j}`).join(' + ');
    cells.push({ source: `const v${i}: number = ${expr};`, cellgraph: { task: `t${i}` } });
  }
  return notebook(cells);
}

/** A task that fails with a file error, as the promoted run did. */
export function failingNotebook(): string {
  return notebook([
    { source: 'const base: number = 1;', cellgraph: { task: 'prepare' } },
    { source: 'if (base > 0) throw new Error("ENOENT: no such file or directory, open \'data/baseline.json\'");\nconst done: number = base;', cellgraph: { task: 'quantiles' } }
  ]);
}

/** Writes a notebook into the root JupyterLab serves. */
export function seed(name: string, text: string): void {
  fs.writeFileSync(path.join(process.env.JUPYTERLAB_GALATA_ROOT_DIR as string, name), text);
}

/**
 * The rendered label boxes of the visible DAG (getBoundingClientRect of each edge label's
 * text), and every pair that intersects: among labels, and labels against node boxes.
 */
export function measureLabelOverlaps(page: Page): Promise<{ labels: number; nodes: number; labelPairs: string[]; labelNodePairs: string[] }> {
  return page.evaluate(() => {
    const panel = [...document.querySelectorAll('.cg-DagPanel')].find((p) => !p.classList.contains('lm-mod-hidden')) as HTMLElement;
    const named = (selector: string, name: (e: Element) => string) =>
      [...panel.querySelectorAll(selector)].filter((e) => (e.textContent ?? '').trim() !== '' || selector.includes('rect')).map((e) => ({ name: name(e), r: e.getBoundingClientRect() }));
    const labels = named('text.cg-EdgeLabel', (e) => `${e.parentElement?.getAttribute('data-from')}->${e.parentElement?.getAttribute('data-to')}`);
    const nodes = named('g[data-node] > rect', (e) => e.parentElement?.getAttribute('data-node') ?? '');
    const hit = (a: DOMRect, b: DOMRect) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.01 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.01;
    const labelPairs: string[] = [];
    const labelNodePairs: string[] = [];
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) if (hit(labels[i].r, labels[j].r)) labelPairs.push(`${labels[i].name} / ${labels[j].name}`);
      for (const n of nodes) if (hit(labels[i].r, n.r)) labelNodePairs.push(`${labels[i].name} / ${n.name}`);
    }
    return { labels: labels.length, nodes: nodes.length, labelPairs, labelNodePairs };
  });
}
