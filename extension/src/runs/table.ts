import type { JsonValue, RunListItem } from '@cellgraph/schema';

/**
 * The runs table of one workflow as pure functions (no DOM): filtering and searching runs,
 * the compact text of their parameters and metrics, and the numeric metrics a chart can draw.
 */

/** What the table's filter row asks for; empty strings match everything. */
export interface RunFilter {
  status: string;
  trigger: string;
  /** Words that must all appear in the run's id, version, schedule, parameters or metrics. */
  search: string;
}

/** `a=1, b="x"`: a record as one line, keys sorted. */
export function recordText(record: Record<string, JsonValue> | undefined): string {
  if (record === undefined) return '';
  return Object.keys(record)
    .sort()
    .map((k) => `${k}=${typeof record[k] === 'number' ? formatNumber(record[k] as number) : JSON.stringify(record[k])}`)
    .join(', ');
}

/** Numbers as people compare them: at most 4 significant decimals, no float noise. */
export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4)));
}

/** What a run is matched against by the search box. */
function haystack(r: RunListItem, versionNumber?: number): string {
  return [r.id, r.status, r.trigger ?? '', r.version, versionNumber !== undefined ? `v${versionNumber}` : '', r.scheduleId ?? '', recordText(r.params), recordText(r.metrics)].join(' ').toLowerCase();
}

/** The runs that pass the filter, in their order. `versions` maps a version hash to its number. */
export function filterRuns(runs: readonly RunListItem[], filter: RunFilter, versions: ReadonlyMap<string, number> = new Map()): RunListItem[] {
  const words = filter.search.toLowerCase().split(/\s+/).filter(Boolean);
  return runs.filter((r) => {
    if (filter.status !== '' && r.status !== filter.status) return false;
    if (filter.trigger !== '' && (r.trigger ?? 'manual') !== filter.trigger) return false;
    const text = haystack(r, versions.get(r.version));
    return words.every((w) => text.includes(w));
  });
}

/** The metric names some run logged a number for, sorted. */
export function numericMetricNames(runs: readonly RunListItem[]): string[] {
  const names = new Set<string>();
  for (const r of runs) for (const [k, v] of Object.entries(r.metrics ?? {})) if (typeof v === 'number' && Number.isFinite(v)) names.add(k);
  return [...names].sort();
}

/** One point per run (oldest first) that logged `metric` as a number. */
export function metricSeries(runs: readonly RunListItem[], metric: string): { runId: string; at: number; value: number }[] {
  return runs
    .filter((r) => typeof r.metrics?.[metric] === 'number' && Number.isFinite(r.metrics[metric] as number))
    .map((r) => ({ runId: r.id, at: Date.parse(r.createdAt), value: r.metrics?.[metric] as number }))
    .sort((a, b) => a.at - b.at || (a.runId < b.runId ? -1 : 1));
}

/** `4/4 · 4 cached` (or `3/4`): progress, with how many tasks the cache served. */
export function progressText(r: Pick<RunListItem, 'done' | 'total' | 'cached'>): string {
  return `${r.done}/${r.total}${r.cached ? ` · ${r.cached} cached` : ''}`;
}
