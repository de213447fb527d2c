/** What the runs table and timeline derive from a run's records: trigger, duration, metrics, spans. */
import type { RunEvent } from '@cellgraph/schema';
import { runDurationMs, runMetrics, runTrigger, taskSpans } from '../run-facts';

it('says what started a run: a schedule (its run id names it), a retry, or a person', () => {
  expect(runTrigger({ id: 's-nightly-20260504t100500z' }, undefined)).toEqual({ trigger: 'schedule', scheduleId: 'nightly' });
  expect(runTrigger({ id: 'r-abc', options: { scheduledFor: '2026-05-04T10:05:00.000Z' } }, undefined)).toEqual({ trigger: 'schedule' });
  expect(runTrigger({ id: 'r-abc' }, 'r-old')).toEqual({ trigger: 'retry' });
  expect(runTrigger({ id: 'r-abc' }, undefined)).toEqual({ trigger: 'manual' });
});

it('measures a finished run from its start, and an unfinished one not at all', () => {
  expect(runDurationMs({ createdAt: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:00:01.000Z', finishedAt: '2026-01-01T00:00:03.500Z' })).toBe(2500);
  expect(runDurationMs({ createdAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:02.000Z' })).toBe(2000);
  expect(runDurationMs({ createdAt: '2026-01-01T00:00:00.000Z' })).toBeUndefined();
});

it("merges the tasks' metrics by name, naming the task only when two log the same name", () => {
  expect(runMetrics([
    { task: 'train', metrics: { accuracy: 0.9, loss: 0.2 } },
    { task: 'eval', metrics: { accuracy: 0.8 } },
    { task: 'report', metrics: {} }
  ])).toEqual({ 'train.accuracy': 0.9, loss: 0.2, 'eval.accuracy': 0.8 });
});

it('turns task events into spans: queued, each attempt, the backoff between, cached instants', () => {
  let seq = 0;
  const ev = (task: string, status: RunEvent['status'], time: string, attempt?: number): RunEvent => ({ seq: seq++, runId: 'r-1', kind: 'task', task, status, time: `2026-01-01T00:00:${time}.000Z`, ...(attempt ? { attempt } : {}) });
  const events: RunEvent[] = [
    { seq: seq++, runId: 'r-1', kind: 'run', status: 'running', time: '2026-01-01T00:00:00.000Z' },
    ev('a', 'queued', '00'),
    ev('a', 'running', '01', 1),
    ev('a', 'retrying', '03', 1),
    ev('a', 'running', '04', 2),
    ev('a', 'succeeded', '06', 2),
    ev('b', 'cached', '06'),
    ev('c', 'queued', '06'),
    ev('c', 'running', '07', 1)
  ];
  const spans = taskSpans(events);
  expect(spans.get('a')).toEqual([
    { state: 'queued', start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:00:01.000Z' },
    { state: 'running', attempt: 1, start: '2026-01-01T00:00:01.000Z', end: '2026-01-01T00:00:03.000Z' },
    { state: 'retrying', attempt: 1, start: '2026-01-01T00:00:03.000Z', end: '2026-01-01T00:00:04.000Z' },
    { state: 'running', attempt: 2, start: '2026-01-01T00:00:04.000Z', end: '2026-01-01T00:00:06.000Z' }
  ]);
  expect(spans.get('b')).toEqual([{ state: 'cached', start: '2026-01-01T00:00:06.000Z', end: '2026-01-01T00:00:06.000Z' }]);
  // Still running: no end, until the run's end closes it.
  expect(spans.get('c')?.[1].end).toBeUndefined();
  expect(taskSpans(events, '2026-01-01T00:00:09.000Z').get('c')?.[1].end).toBe('2026-01-01T00:00:09.000Z');
});
