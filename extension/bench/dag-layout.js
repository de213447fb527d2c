/**
 * DAG panel figures (printed, never asserted): layout of a 500-node graph, and the
 * re-layout after an edit of a 50-cell notebook (the server's compile excluded). Runs the
 * built pure layout (lib/dag/layout.js) under Node through ts-free CommonJS interop.
 */
const { execFileSync } = require('child_process');
const path = require('path');
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.json')], { stdio: 'inherit' });
const { layoutDag } = require('./out/layout.js');

function layered(n, width) {
  const tasks = [];
  const edges = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const upstream = layer === 0 ? [] : [...new Set([0, 1].map((k) => `t${(layer - 1) * width + ((i + k) % width)}`))];
    tasks.push({ name: `t${i}`, cells: [i], upstream, params: [] });
    for (const u of upstream) edges.push({ from: u, to: `t${i}`, kind: 'data', values: [{ name: `v${u}`, type: 'number[]' }] });
  }
  return { tasks, edges, params: [{ name: 'seed', type: 'number' }] };
}

function time(label, fn, runs = 5) {
  fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label.padEnd(70)} ${ms[Math.floor(ms.length / 2)].toFixed(1)} ms (median of ${runs})`);
}

const big = layered(500, 20);
time('layout of a 500-node DAG (the render is measured in Chromium: bench jupyterlab)', () => layoutDag(big));
const fifty = layered(50, 5);
time('re-layout after an edit of a 50-cell notebook (target <= 50 ms)', () => layoutDag(fifty), 20);
