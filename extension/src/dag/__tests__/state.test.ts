/** What a node says about its task during and after a run. */
import { errorLine, formatDuration, runCaption, runTooltip, stateClass, tasksWithErrors } from '../state';

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
