/**
 * A metric over runs as pure geometry: a linear scale with round ticks, and the points and
 * path of a line chart (what the d3 drawing joins).
 */

/** Maps [d0, d1] onto [r0, r1]. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (lo === hi) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export interface ChartPoint {
  runId: string;
  value: number;
  x: number;
  y: number;
}

/** Points of a series (oldest run left), evenly spaced by run, in a `width` x `height` plot with `pad` around. */
export function lineChart(series: readonly { runId: string; value: number }[], width: number, height: number, pad = 32): { points: ChartPoint[]; path: string; ticks: { value: number; y: number }[] } {
  if (series.length === 0) return { points: [], path: '', ticks: [] };
  let lo = Math.min(...series.map((p) => p.value));
  let hi = Math.max(...series.map((p) => p.value));
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const ticks = niceTicks(lo, hi, 4);
  const y = linear(Math.min(lo, ticks[0]), Math.max(hi, ticks[ticks.length - 1]), height - pad, pad / 2);
  const x = linear(0, Math.max(1, series.length - 1), pad * 1.5, width - pad / 2);
  const points = series.map((p, i) => ({ runId: p.runId, value: p.value, x: series.length === 1 ? width / 2 : x(i), y: y(p.value) }));
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  return { points, path, ticks: ticks.map((value) => ({ value, y: y(value) })) };
}
