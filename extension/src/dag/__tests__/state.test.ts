/** What a node says about its task during and after a run. */
import { elementCountParts, elementCountsTitle, elementRow, elementsLive, errorLine, formatDuration, runCaption, runTooltip, skipReason, stateClass, tasksWithErrors } from '../state';

const task = (extra: Partial<Parameters<typeof runCaption>[0] & object>) => ({ name: 'train', status: 'succeeded' as const, attempts: 1, cached: false, ...extra });

it('says how long a task took, how many attempts it needed, and when it was cached instead', () => {
  expect(runCaption(task({ durationMs: 1234 }))).toBe('succeeded · 1.2 s');
  expect(runCaption(task({ status: 'failed', durationMs: 800, attempts: 3 }))).toBe('failed · 800 ms · 3 attempts');
  expect(runCaption(task({ status: 'cached', durationMs: 2 }))).toBe('cached');
  expect(runCaption(task({ status: 'running' }))).toBe('running');
  expect(runCaption(task({ status: 'running', attempts: 2 }))).toBe('running · attempt 2');
  expect(runCaption(task({ status: 'retrying', attempts: 1 }))).toBe('retrying · 1 failed');
  expect(runCaption(task({ status: 'skipped' }))).toBe('skipped');
  expect(runCaption(undefined)).toBe('');
});

it('formats durations from milliseconds to hours', () => {
  expect(formatDuration(12)).toBe('12 ms');
  expect(formatDuration(12_345)).toBe('12.3 s');
  expect(formatDuration(245_000)).toBe('4 min 05 s');
  expect(formatDuration(7_380_000)).toBe('2 h 03 min');
});

it('puts the error of a failed task in its tooltip', () => {
  expect(runTooltip(task({ status: 'failed', error: 'RangeError: k must be > 0' }))).toBe('train: failed\nRangeError: k must be > 0');
});

it('says why a skipped task did not run, in its tooltip, and nothing for a task that ran', () => {
  expect(runTooltip(task({ status: 'skipped', skipReason: 'condition false: best > 1000' }))).toBe('train: skipped\ncondition false: best > 1000');
  expect(runTooltip(task({ status: 'skipped', skipReason: 'upstream task load was skipped' }))).toBe('train: skipped\nupstream task load was skipped');
  expect(skipReason(task({ status: 'skipped', skipReason: 'not started: the run failed first' }))).toBe('not started: the run failed first');
  // A summary from a server that does not give reasons: the state alone, no guess.
  expect(runTooltip(task({ status: 'skipped' }))).toBe('train: skipped');
  expect(skipReason(task({ status: 'succeeded', skipReason: 'stale' }))).toBe('');
  expect(skipReason(undefined)).toBe('');
});

it('maps states to classes and error diagnostics to the tasks they name', () => {
  expect(stateClass('cached')).toBe('cg-state-cached');
  expect(stateClass(undefined)).toBe('');
  expect([...tasksWithErrors([{ task: 'a', severity: 'error' }, { task: 'b', severity: 'warning' }, { severity: 'error' }])]).toEqual(['a']);
});

it('puts the failure reason on a failed node: its first line, cut to the node width', () => {
  expect(errorLine(task({ status: 'failed', error: "ENOENT: no such file or directory, open 'data/baseline.json'\n    at readFileSync" }), 150)).toBe('ENOENT: no such file…');
  expect(errorLine(task({ status: 'failed', error: 'Error: boom' }), 150)).toBe('Error: boom');
  expect(errorLine(task({ status: 'succeeded', error: 'old' }), 150)).toBe('');
  expect(errorLine(undefined, 150)).toBe('');
});

describe('a foreach task on the DAG', () => {
  const counts = { total: 20, succeeded: 18, cached: 0, failed: 1, running: 1, pending: 0 };

  it('counts its elements by state, each count marked, with the total: "18 ✓ 1 ✗ 1 ⏳ / 20"', () => {
    const { parts, total } = elementCountParts(counts);
    expect(parts).toEqual([
      { state: 'succeeded', text: '18 ✓' },
      { state: 'failed', text: '1 ✗' },
      { state: 'running', text: '1 ⏳' }
    ]);
    expect(`${parts.map((p) => p.text).join(' ')} ${total}`).toBe('18 ✓ 1 ✗ 1 ⏳ / 20');
    expect(elementCountParts({ total: 3, succeeded: 0, cached: 3, failed: 0, running: 0, pending: 0 }).parts).toEqual([{ state: 'cached', text: '3 ↺' }]);
    expect(elementCountParts({ total: 0, succeeded: 0, cached: 0, failed: 0, running: 0, pending: 0 })).toEqual({ parts: [], total: '/ 0' });
  });

  it('says the counts in words in its tooltip', () => {
    expect(elementCountsTitle({ ...counts, running: 0, pending: 1 })).toBe('20 elements: 18 succeeded, 1 failed, 1 not started');
    expect(runTooltip(task({ status: 'running', elements: counts }))).toBe('train: running\n20 elements: 18 succeeded, 1 failed, 1 running');
  });

  it('is live while it runs with elements left', () => {
    expect(elementsLive({ status: 'running', elements: counts })).toBe(true);
    expect(elementsLive({ status: 'running', elements: { ...counts, running: 0, succeeded: 19 } })).toBe(false);
    expect(elementsLive({ status: 'failed', elements: counts })).toBe(false);
    expect(elementsLive({ status: 'running' })).toBe(false);
  });

  it('lists an element with its state, attempts, duration and the first line of its error', () => {
    expect(elementRow({ index: 3, state: 'failed', attempts: 2, cached: false, durationMs: 1234, error: '\nError: bad config\n  at cell 4' })).toEqual({
      index: '#3',
      state: 'failed',
      attempts: '2',
      duration: '1.2 s',
      error: 'Error: bad config'
    });
    expect(elementRow({ index: 0, state: 'running', attempts: 1, cached: false })).toMatchObject({ duration: 'running', error: '' });
    expect(elementRow({ index: 1, state: 'cached', attempts: 0, cached: true })).toMatchObject({ duration: '—' });
  });
});
