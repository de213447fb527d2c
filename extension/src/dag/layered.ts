/**
 * A layered (Sugiyama-style) graph layout as pure functions, fast enough to re-lay out a
 * 500-node DAG on every edit: ranks by longest path, dummy nodes on long edges, crossing
 * reduction by barycenter sweeps (keeping the best order seen), and x coordinates by
 * isotonic regression, which puts every node as close to its neighbours as the spacing
 * within its layer allows. dagre does the same steps with heavier heuristics (network
 * simplex ranking, Brandes-Köpf placement) that cost ~250 ms at 500 nodes.
 */

/** A node to place. `top` nodes (the DAG's parameters) stay in the first layer. */
export interface LayeredNode {
  id: string;
  width: number;
  height: number;
  top?: boolean;
}

export interface LayeredEdge {
  from: string;
  to: string;
  /**
   * A label box to place on the edge. When any edge has one, every layer of nodes gets a
   * layer of labels below it (dagre's approach: a label is a node of its own), so the
   * crossing reduction and the placement keep labels apart from each other and from nodes.
   */
  label?: { width: number; height: number };
}

export interface LayeredOptions {
  /** Horizontal space between neighbours in a layer. */
  nodeSep: number;
  /** Vertical space between layers. */
  rankSep: number;
  margin: number;
  /** Width reserved for an edge passing through a layer. */
  edgeSep: number;
}

export interface LayeredResult {
  /** Centre of each node. */
  positions: Map<string, { x: number; y: number; rank: number }>;
  /** One polyline per input edge (same index), from the source's bottom to the target's top; empty for edges that name no node or loop on one. */
  edgePoints: { x: number; y: number }[][];
  width: number;
  height: number;
  /** Edge crossings left by the ordering (a quality figure for tests and benchmarks). */
  crossings: number;
  /** Centre of each input edge's label box (same index); undefined for edges without a label. */
  labelPositions: ({ x: number; y: number } | undefined)[];
}

export const DEFAULT_OPTIONS: LayeredOptions = { nodeSep: 28, rankSep: 56, margin: 12, edgeSep: 12 };

const MAX_SWEEPS = 24;
const SWEEPS_WITHOUT_GAIN = 6;
const PLACEMENT_PASSES = 8;

/** Internal node: real or dummy (a long edge's stop in a layer it crosses, or its label). */
interface Slot {
  width: number;
  height: number;
  rank: number;
  top: boolean;
  /** A stop of an edge (with or without its label): pulled straight harder by the placement. */
  dummy: boolean;
}

/** Lays out a directed graph top to bottom. Cycles are tolerated (their back edges are drawn reversed). */
export function layoutLayered(nodes: readonly LayeredNode[], edges: readonly LayeredEdge[], options: LayeredOptions = DEFAULT_OPTIONS): LayeredResult {
  const index = new Map<string, number>();
  nodes.forEach((n, i) => index.set(n.id, i));
  const slots: Slot[] = nodes.map((n) => ({ width: n.width, height: n.height, rank: 0, top: n.top === true, dummy: false }));
  const real = nodes.length;

  // Valid edges as index pairs; back edges of cycles are reversed (and drawn reversed).
  const pairs: { u: number; v: number; reversed: boolean; input: number; label?: { width: number; height: number } }[] = [];
  edges.forEach((e, i) => {
    const u = index.get(e.from);
    const v = index.get(e.to);
    if (u !== undefined && v !== undefined && u !== v) pairs.push({ u, v, reversed: false, input: i, label: e.label });
  });
  const back = backEdges(real, pairs);
  for (const p of pairs) {
    if (back.has(p)) {
      [p.u, p.v] = [p.v, p.u];
      p.reversed = true;
    }
  }

  const order = topologicalOrder(real, pairs);
  assignRanks(slots, pairs, order);
  // Labels get layers of their own between the layers of nodes: every edge then crosses one.
  const labelled = pairs.some((p) => p.label !== undefined);
  if (labelled) for (const s of slots) s.rank *= 2;

  // Chains: each edge as the slots it passes through, one per layer; a label is the stop in
  // the label layer nearest the edge's middle.
  const labelSlot = new Map<number, number>();
  const chains = pairs.map((p, k) => {
    const chain = [p.u];
    const from = slots[p.u].rank;
    const to = slots[p.v].rank;
    const labelRank = p.label === undefined ? -1 : from + 1 + 2 * Math.floor((to - from - 2) / 4);
    for (let r = from + 1; r < to; r++) {
      const label = r === labelRank ? p.label : undefined;
      slots.push({ width: label?.width ?? options.edgeSep, height: label?.height ?? 0, rank: r, top: false, dummy: true });
      chain.push(slots.length - 1);
      if (label !== undefined) labelSlot.set(k, slots.length - 1);
    }
    chain.push(p.v);
    return chain;
  });
  const up: number[][] = slots.map(() => []);
  const down: number[][] = slots.map(() => []);
  for (const chain of chains) {
    for (let i = 0; i + 1 < chain.length; i++) {
      down[chain[i]].push(chain[i + 1]);
      up[chain[i + 1]].push(chain[i]);
    }
  }

  let ordered: number[][] = [];
  let crossings = Infinity;
  for (const start of initialOrders(slots, down, order)) {
    const tried = reduceCrossings(start, up, down);
    if (tried.crossings < crossings) ({ layers: ordered, crossings } = tried);
  }
  const xs = placeX(ordered, slots, up, down, options);
  const ys = placeY(ordered, slots, options);

  let left = Infinity;
  let right = -Infinity;
  for (let i = 0; i < slots.length; i++) {
    left = Math.min(left, xs[i] - slots[i].width / 2);
    right = Math.max(right, xs[i] + slots[i].width / 2);
  }
  if (slots.length === 0) left = right = 0;
  const shift = options.margin - left;

  const positions = new Map<string, { x: number; y: number; rank: number }>();
  nodes.forEach((n, i) => positions.set(n.id, { x: xs[i] + shift, y: ys[i], rank: slots[i].rank }));
  const edgePoints: { x: number; y: number }[][] = edges.map(() => []);
  const labelPositions: ({ x: number; y: number } | undefined)[] = edges.map(() => undefined);
  pairs.forEach((p, k) => {
    const at = labelSlot.get(k);
    if (at !== undefined) labelPositions[p.input] = { x: xs[at] + shift, y: ys[at] };
    const chain = chains[k];
    const points = chain.map((s, i) => ({
      x: xs[s] + shift,
      y: i === 0 ? ys[s] + slots[s].height / 2 : i === chain.length - 1 ? ys[s] - slots[s].height / 2 : ys[s]
    }));
    edgePoints[p.input] = p.reversed ? points.reverse() : points;
  });
  const bottom = ordered.length === 0 ? 0 : Math.max(...ordered[ordered.length - 1].map((s) => ys[s] + slots[s].height / 2));
  return { positions, edgePoints, width: right - left + 2 * options.margin, height: bottom + options.margin, crossings, labelPositions };
}

/** Edges that close a cycle, found by an iterative depth-first search (reversing them makes the graph acyclic). */
function backEdges<P extends { u: number; v: number }>(n: number, pairs: P[]): Set<P> {
  const out: P[][] = Array.from({ length: n }, () => []);
  for (const p of pairs) out[p.u].push(p);
  const state = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
  const back = new Set<P>();
  for (let s = 0; s < n; s++) {
    if (state[s] !== 0) continue;
    const stack: { node: number; next: number }[] = [{ node: s, next: 0 }];
    state[s] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next < out[top.node].length) {
        const p = out[top.node][top.next++];
        if (state[p.v] === 1) back.add(p);
        else if (state[p.v] === 0) {
          state[p.v] = 1;
          stack.push({ node: p.v, next: 0 });
        }
      } else {
        state[top.node] = 2;
        stack.pop();
      }
    }
  }
  return back;
}

/** Kahn's order of an acyclic graph, ties broken by input order (so layouts are stable). */
export function topologicalOrder(n: number, pairs: readonly { u: number; v: number }[]): number[] {
  const indegree = new Int32Array(n);
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const p of pairs) {
    out[p.u].push(p.v);
    indegree[p.v]++;
  }
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) order.push(i);
  for (let head = 0; head < order.length; head++) {
    for (const v of out[order[head]]) if (--indegree[v] === 0) order.push(v);
  }
  return order;
}

/**
 * Longest-path ranks (a node sits one layer below its lowest predecessor), then sources
 * that are not `top` move down next to their first consumer, so a value read only deep in
 * the graph does not draw an edge across every layer.
 */
function assignRanks(slots: Slot[], pairs: readonly { u: number; v: number }[], order: readonly number[]): void {
  const preds: number[][] = slots.map(() => []);
  const succs: number[][] = slots.map(() => []);
  for (const p of pairs) {
    preds[p.v].push(p.u);
    succs[p.u].push(p.v);
  }
  for (const v of order) slots[v].rank = preds[v].reduce((r, u) => Math.max(r, slots[u].rank + 1), 0);
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i];
    if (slots[v].top || preds[v].length > 0 || succs[v].length === 0) continue;
    slots[v].rank = Math.max(0, Math.min(...succs[v].map((s) => slots[s].rank)) - 1);
  }
}

/**
 * Two first orders for the crossing reduction to start from: the input's (for a notebook,
 * cell order, which is usually already the data's order) and depth-first from the sources,
 * as dagre starts.
 */
function initialOrders(slots: readonly Slot[], down: readonly number[][], order: readonly number[]): number[][][] {
  const depth = slots.reduce((d, s) => Math.max(d, s.rank + 1), 0);
  const byInput: number[][] = Array.from({ length: depth }, () => []);
  slots.forEach((s, i) => byInput[s.rank].push(i));
  const depthFirst: number[][] = Array.from({ length: depth }, () => []);
  const seen = new Uint8Array(slots.length);
  const starts = [...order].sort((a, b) => slots[a].rank - slots[b].rank || a - b);
  for (const start of starts) {
    const stack = [start];
    while (stack.length > 0) {
      const s = stack.pop() as number;
      if (seen[s]) continue;
      seen[s] = 1;
      depthFirst[slots[s].rank].push(s);
      for (let i = down[s].length - 1; i >= 0; i--) if (!seen[down[s][i]]) stack.push(down[s][i]);
    }
  }
  return [byInput, depthFirst];
}

/** Crossings between two adjacent layers, by counting inversions with a Fenwick tree. */
export function crossingsBetween(upper: readonly number[], lower: readonly number[], down: readonly number[][]): number {
  const pos = new Int32Array(down.length).fill(-1);
  lower.forEach((s, i) => (pos[s] = i));
  return countCrossings(upper, lower.length, down, pos);
}

/** `crossingsBetween` with the lower layer's positions already in `pos` (-1: not in it): no allocation but the tree. */
function countCrossings(upper: readonly number[], lowerSize: number, down: readonly number[][], pos: ArrayLike<number>): number {
  const tree = new Int32Array(lowerSize + 1);
  let crossings = 0;
  // Edges in order of their upper end (right to left), then of their lower end (right to left):
  // each edge crosses the ones already counted that end further left.
  for (let k = upper.length - 1; k >= 0; k--) {
    const targets = down[upper[k]];
    const ends: number[] = [];
    for (const v of targets) if (pos[v] >= 0) ends.push(pos[v]);
    if (ends.length > 1) ends.sort((a, b) => b - a);
    for (const e of ends) for (let i = e; i > 0; i -= i & -i) crossings += tree[i];
    for (const e of ends) for (let i = e + 1; i <= lowerSize; i += i & -i) tree[i]++;
  }
  return crossings;
}

function totalCrossings(layers: readonly number[][], down: readonly number[][], pos: Float64Array): number {
  let c = 0;
  for (let r = 0; r + 1 < layers.length; r++) c += countCrossings(layers[r], layers[r + 1].length, down, pos);
  return c;
}

/**
 * Barycenter sweeps, down then up, each layer sorted by the mean position of its
 * neighbours in the layer just fixed, each followed by adjacent swaps that remove
 * crossings (dot's "transpose"); the best order seen wins.
 */
function reduceCrossings(start: number[][], up: readonly number[][], down: readonly number[][]): { layers: number[][]; crossings: number } {
  const layers = start.map((l) => [...l]);
  const pos = new Float64Array(up.length);
  const setPositions = (layer: number[]) => layer.forEach((s, i) => (pos[s] = i));
  layers.forEach(setPositions);
  transpose(layers, up, down, pos);
  let best = layers.map((l) => [...l]);
  let bestCrossings = totalCrossings(layers, down, pos);
  let stale = 0;
  const key = new Float64Array(up.length);
  for (let sweep = 0; sweep < MAX_SWEEPS && bestCrossings > 0 && stale < SWEEPS_WITHOUT_GAIN; sweep++) {
    const downward = sweep % 2 === 0;
    const neighbours = downward ? up : down;
    for (let k = 1; k < layers.length; k++) {
      const r = downward ? k : layers.length - 1 - k;
      for (const s of layers[r]) {
        const ns = neighbours[s];
        let sum = 0;
        for (const n of ns) sum += pos[n];
        key[s] = ns.length === 0 ? pos[s] : sum / ns.length;
      }
      layers[r].sort((a, b) => key[a] - key[b] || pos[a] - pos[b]);
      setPositions(layers[r]);
    }
    transpose(layers, up, down, pos);
    const crossings = totalCrossings(layers, down, pos);
    if (crossings < bestCrossings) {
      bestCrossings = crossings;
      best = layers.map((l) => [...l]);
      stale = 0;
    } else stale++;
  }
  return { layers: best, crossings: bestCrossings };
}

/** Crossings the edges of `a` and `b` make with each other when `a` is left of `b`. */
function pairCrossings(a: number, b: number, neighbours: readonly number[][], pos: Float64Array): number {
  let c = 0;
  for (const x of neighbours[a]) for (const y of neighbours[b]) if (pos[x] > pos[y]) c++;
  return c;
}

/** Swaps neighbours in a layer while that removes crossings with the layers above and below. */
function transpose(layers: number[][], up: readonly number[][], down: readonly number[][], pos: Float64Array): void {
  for (let round = 0, improved = true; improved && round < 8; round++) {
    improved = false;
    for (const layer of layers) {
      for (let i = 0; i + 1 < layer.length; i++) {
        const a = layer[i];
        const b = layer[i + 1];
        const now = pairCrossings(a, b, up, pos) + pairCrossings(a, b, down, pos);
        const swapped = pairCrossings(b, a, up, pos) + pairCrossings(b, a, down, pos);
        if (swapped < now) {
          layer[i] = b;
          layer[i + 1] = a;
          pos[a] = i + 1;
          pos[b] = i;
          improved = true;
        }
      }
    }
  }
}

/**
 * Pool-adjacent-violators: the positions closest (weighted least squares) to `desired`
 * that keep each node at least `gap[i]` right of the one before it.
 */
export function placeInOrder(desired: readonly number[], weights: readonly number[], gaps: readonly number[]): number[] {
  const n = desired.length;
  const offset = new Float64Array(n);
  for (let i = 1; i < n; i++) offset[i] = offset[i - 1] + gaps[i - 1];
  // In shifted coordinates (x - offset) the constraint is "non-decreasing": isotonic regression.
  const blocks: { sum: number; weight: number; count: number }[] = [];
  for (let i = 0; i < n; i++) {
    blocks.push({ sum: (desired[i] - offset[i]) * weights[i], weight: weights[i], count: 1 });
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1];
      const a = blocks[blocks.length - 2];
      if (a.sum / a.weight <= b.sum / b.weight) break;
      blocks.splice(blocks.length - 2, 2, { sum: a.sum + b.sum, weight: a.weight + b.weight, count: a.count + b.count });
    }
  }
  const out: number[] = [];
  for (const b of blocks) for (let k = 0; k < b.count; k++) out.push(b.sum / b.weight + offset[out.length]);
  return out;
}

/** x of every slot: packed layers, then passes pulling each layer towards its neighbours. */
function placeX(layers: readonly number[][], slots: readonly Slot[], up: readonly number[][], down: readonly number[][], options: LayeredOptions): Float64Array {
  const xs = new Float64Array(slots.length);
  const gapsOf = (layer: readonly number[]) => layer.slice(1).map((s, i) => (slots[layer[i]].width + slots[s].width) / 2 + (slots[s].dummy || slots[layer[i]].dummy ? options.edgeSep : options.nodeSep));
  const gaps = layers.map(gapsOf);
  layers.forEach((layer, r) => {
    const packed = placeInOrder(layer.map(() => 0), layer.map(() => 1), gaps[r]);
    layer.forEach((s, i) => (xs[s] = packed[i]));
  });
  const pass = (r: number, neighbours: readonly (readonly number[][])[]) => {
    const layer = layers[r];
    const desired: number[] = [];
    const weights: number[] = [];
    for (const s of layer) {
      let sum = 0;
      let count = 0;
      for (const ns of neighbours) for (const n of ns[s]) {
        sum += xs[n];
        count++;
      }
      // A long edge's stops pull harder, so it is drawn straight rather than zig-zagging.
      const weight = count === 0 ? 1e-3 : count * (slots[s].dummy ? 4 : 1);
      desired.push(count === 0 ? xs[s] : sum / count);
      weights.push(weight);
    }
    const placed = placeInOrder(desired, weights, gaps[r]);
    layer.forEach((s, i) => (xs[s] = placed[i]));
  };
  for (let p = 0; p < PLACEMENT_PASSES; p++) {
    if (p % 2 === 0) for (let r = 1; r < layers.length; r++) pass(r, [up]);
    else for (let r = layers.length - 2; r >= 0; r--) pass(r, [down]);
  }
  for (let r = 0; r < layers.length; r++) pass(r, [up, down]);
  return xs;
}

/** y of every slot: layers stacked with the tallest node of each deciding its height. */
function placeY(layers: readonly number[][], slots: readonly Slot[], options: LayeredOptions): Float64Array {
  const ys = new Float64Array(slots.length);
  let top = options.margin;
  for (const layer of layers) {
    const h = layer.reduce((m, s) => Math.max(m, slots[s].height), 0);
    for (const s of layer) ys[s] = top + h / 2;
    top += h + options.rankSep;
  }
  return ys;
}
