/** The runs views' pure parts: filter and search, comparison, a metric's chart, the timeline. */
import type { RunDetail, RunListItem } from '@cellgraph/schema';
import { lineChart, niceTicks } from '../chart';
import { compareRuns } from '../compare';
import { runTimeline } from '../timeline';
import { filterRuns, metricSeries, numericMetricNames, progressText, recordText } from '../table';

const V1 = `sha256:${'1'.repeat(64)}`;
const V2 = `sha256:${'2'.repeat(64)}`;

function item(id: string, over: Partial<RunListItem> = {}): RunListItem {
  return { id, workflow: 'iris', version: V1, notebookPath: '/w/iris.ipynb', params: {}, status: 'succeeded', executor: 'local', createdAt: '2026-01-01T00:00:00.000Z', done: 2, total: 2, ...over };
}

const runs: RunListItem[] = [
  item('r-3', { createdAt: '2026-01-03T00:00:00.000Z', params: { lr: 0.1 }, metrics: { accuracy: 0.91, note: 'ok' }, trigger: 'manual', version: V2 }),
  item('s-nightly-20260102t000000z', { createdAt: '2026-01-02T00:00:00.000Z', params: { lr: 0.01 }, metrics: { accuracy: 0.87 }, trigger: 'schedule', scheduleId: 'nightly', cached: 2 }),
  item('r-1', { status: 'failed', params: { lr: 0.5 }, trigger: 'retry', done: 1 })
];

it('filters runs by status and trigger and searches ids, versions, params and metrics', () => {
  const none = { status: '', trigger: '', search: '' };
  expect(filterRuns(runs, none).map((r) => r.id)).toEqual(['r-3', 's-nightly-20260102t000000z', 'r-1']);
  expect(filterRuns(runs, { ...none, status: 'failed' }).map((r) => r.id)).toEqual(['r-1']);
  expect(filterRuns(runs, { ...none, trigger: 'schedule' }).map((r) => r.id)).toEqual(['s-nightly-20260102t000000z']);
  expect(filterRuns(runs, { ...none, search: 'lr=0.01' }).map((r) => r.id)).toEqual(['s-nightly-20260102t000000z']);
  expect(filterRuns(runs, { ...none, search: 'NIGHTLY accuracy' }).map((r) => r.id)).toEqual(['s-nightly-20260102t000000z']);
  expect(filterRuns(runs, { ...none, search: 'v2' }, new Map([[V1, 1], [V2, 2]])).map((r) => r.id)).toEqual(['r-3']);
});

it('writes params and metrics on one line and says how many tasks the cache served', () => {
  expect(recordText({ b: 'x', a: 0.30000000000000004, c: [1] })).toBe('a=0.3, b="x", c=[1]');
  expect(progressText({ done: 4, total: 4, cached: 4 })).toBe('4/4 · 4 cached');
  expect(progressText({ done: 3, total: 4, cached: 0 })).toBe('3/4');
});

it('charts a numeric metric over runs, oldest first, on round ticks', () => {
  expect(numericMetricNames(runs)).toEqual(['accuracy']);
  const series = metricSeries(runs, 'accuracy');
  expect(series.map((p) => p.runId)).toEqual(['s-nightly-20260102t000000z', 'r-3']);
  const chart = lineChart(series, 400, 200);
  expect(chart.points).toHaveLength(2);
  expect(chart.points[0].x).toBeLessThan(chart.points[1].x);
  // Higher is drawn higher (smaller y).
  expect(chart.points[1].y).toBeLessThan(chart.points[0].y);
  expect(chart.path.startsWith('M')).toBe(true);
  expect(niceTicks(0.87, 0.91, 4)).toEqual([0.87, 0.88, 0.89, 0.9, 0.91]);
  expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
});

function detail(id: string, over: Partial<RunDetail>): RunDetail {
  return {
    runId: id, workflow: 'iris', version: V1, status: 'succeeded', params: {}, notebookPath: '/w/iris.ipynb', executor: 'local', createdAt: '2026-01-01T00:00:00.000Z', taskDetails: [],
    tasks: [
      { name: 'load', status: 'succeeded', attempts: 1, cached: false, durationMs: 1200, outputs: [], metrics: {} },
      { name: 'train', status: 'succeeded', attempts: 1, cached: false, durationMs: 3000, outputs: [], metrics: { accuracy: 0.9 } }
    ],
    metrics: { accuracy: 0.9 },
    ...over
  };
}

it('compares two runs side by side: params, metrics, per-task status and duration, differences flagged', () => {
  const a = detail('r-1', { params: { lr: 0.1 }, durationMs: 5000 });
  const b = detail('r-2', {
    params: { lr: 0.1, epochs: 3 },
    trigger: 'schedule',
    metrics: { accuracy: 0.95 },
    tasks: [
      { name: 'load', status: 'cached', attempts: 0, cached: true, outputs: [], metrics: {} },
      { name: 'train', status: 'succeeded', attempts: 2, cached: false, durationMs: 2500, outputs: [], metrics: { accuracy: 0.95 } }
    ]
  });
  const rows = compareRuns(a, b);
  const row = (section: string, key: string) => rows.find((r) => r.section === section && r.key === key);
  expect(row('param', 'lr')).toMatchObject({ a: '0.1', b: '0.1', differs: false });
  expect(row('param', 'epochs')).toMatchObject({ a: '—', b: '3', differs: true });
  expect(row('metric', 'accuracy')).toMatchObject({ a: '0.9', b: '0.95', differs: true });
  expect(row('run', 'trigger')).toMatchObject({ a: 'manual', b: 'schedule', differs: true });
  expect(row('task', 'load')).toMatchObject({ a: 'succeeded · 1.2 s', b: 'cached', differs: true });
  expect(row('task', 'train')).toMatchObject({ a: 'succeeded · 3.0 s', b: 'succeeded · 2.5 s · 2 attempts', differs: false });
});

it('says in the comparison why a task was skipped in one run and ran in the other', () => {
  const a = detail('r-1', {});
  const b = detail('r-2', {
    status: 'succeeded',
    tasks: [
      { name: 'load', status: 'succeeded', attempts: 1, cached: false, durationMs: 1200, outputs: [], metrics: {} },
      { name: 'train', status: 'skipped', attempts: 1, cached: false, outputs: [], metrics: {}, skipReason: 'condition false: rows > 100' }
    ]
  });
  const train = compareRuns(a, b).find((r) => r.section === 'task' && r.key === 'train');
  expect(train).toMatchObject({ a: 'succeeded · 3.0 s', b: 'skipped · condition false: rows > 100', differs: true });
});

it('lays a run out as a Gantt chart: a row per task, a bar per span, cached tasks still visible', () => {
  const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + s * 1000).toISOString();
  const run = detail('r-1', {
    tasks: [
      { name: 'load', status: 'cached', attempts: 0, cached: true, outputs: [], metrics: {} },
      { name: 'train', status: 'running', attempts: 2, cached: false, outputs: [], metrics: {} }
    ],
    taskDetails: [
      { name: 'load', spans: [{ state: 'cached', start: at(1), end: at(1) }] },
      { name: 'train', spans: [{ state: 'queued', start: at(1), end: at(2) }, { state: 'running', attempt: 1, start: at(2), end: at(4) }, { state: 'retrying', attempt: 1, start: at(4), end: at(5) }, { state: 'running', attempt: 2, start: at(5) }] }
    ]
  });
  const t = runTimeline(run, 1000, Date.parse(at(10)));
  expect(t.tasks).toEqual(['load', 'train']);
  expect(t.totalMs).toBe(10_000);
  expect(t.bars.map((b) => `${b.task}:${b.state}:${b.x}:${b.width}`)).toEqual(['load:cached:100:3', 'train:queued:100:100', 'train:running:200:200', 'train:retrying:400:100', 'train:running:500:500']);
  expect(t.bars[4].open).toBe(true);
});
