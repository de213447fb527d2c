import { Clock, systemClock } from '../clock';
import { InMemoryScheduleRepository } from '../repository';
import { FireLatency, Scheduler } from '../scheduler';
import { FakeRuns } from './fake-runs';

/**
 * Real timers, real elapsed time: only the wall clock is shifted so that the next minute
 * boundary (the finest a 5-field cron has) is ~1.2 s away, instead of waiting up to a minute.
 */
describe('Scheduler on the real clock', () => {
  it('fires a schedule due in ~1.2 s within 1 s of its scheduled second', async () => {
    const real = Date.now();
    const nextMinute = Math.ceil((real + 1) / 60_000) * 60_000;
    const skew = nextMinute - 1_200 - real;
    const clock: Clock = {
      now: () => new Date(Date.now() + skew),
      setTimer: systemClock.setTimer,
      clearTimer: systemClock.clearTimer
    };
    const runs = new FakeRuns();
    let resolveFired: (m: FireLatency) => void = () => undefined;
    const fired = new Promise<FireLatency>((resolve) => (resolveFired = resolve));
    const scheduler = new Scheduler({ repository: new InMemoryScheduleRepository(), runs, clock, onFireLatency: (m) => resolveFired(m) });
    await scheduler.start();
    const started = Date.now();
    await scheduler.create({ id: 'soon', workflow: 'iris', version: `sha256:${'b'.repeat(64)}`, cron: '* * * * *' });
    const m = await fired;
    const elapsed = Date.now() - started;
    await scheduler.stop();
    expect(m.scheduledAt.getTime()).toBe(nextMinute);
    expect(m.latencyMs).toBeGreaterThanOrEqual(0);
    expect(m.latencyMs).toBeLessThan(1_000);
    expect(elapsed).toBeGreaterThan(500); // it waited for the minute boundary, not fired at once
    expect(elapsed).toBeLessThan(3_000);
    expect(runs.fireTimes()).toEqual([new Date(nextMinute).toISOString()]);
  }, 5_000);
});
