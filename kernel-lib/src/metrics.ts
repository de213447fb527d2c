import { currentRun } from './runtime';

/** A metric value: a number, string or boolean. */
export type MetricValue = number | string | boolean;

const interactive: Record<string, MetricValue> = {};

/**
 * Records a metric of the current task (accuracy, row counts, ...). In a run it lands in
 * the task's record and the run summary; interactively it is printed and kept in memory.
 */
export function metric(name: string, value: MetricValue): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) throw new TypeError('metric name must be a non-empty string of at most 256 characters');
  if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string' && typeof value !== 'boolean') {
    throw new TypeError(`metric "${name}" must be a finite number, a string or a boolean`);
  }
  const ctx = currentRun();
  if (ctx) {
    ctx.metrics[name] = value;
    return;
  }
  interactive[name] = value;
  console.log(`metric ${name} = ${value}`);
}

/** Metrics recorded so far: the current task's in a run, else the notebook session's. */
export function metrics(): Record<string, MetricValue> {
  return { ...(currentRun()?.metrics ?? interactive) };
}
