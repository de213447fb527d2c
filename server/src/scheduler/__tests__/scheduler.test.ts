import { Schedule, ScheduleView } from '@cellgraph/schema';
import { NotFoundError, ValidationError } from '../../errors';
import { FakeClock } from '@cellgraph/dev/test-support/fake-clock';
import { MAX_TIMER_DELAY_MS } from '../clock';
import { InMemoryScheduleRepository } from '../repository';
import { FireLatency, Scheduler, SchedulerEvent, SchedulerOptions } from '../scheduler';
import { scheduledRunId } from '../run-ids';
import { ScheduleConflictError } from '../validation';
import { FakeRuns } from './fake-runs';

const VERSION = `sha256:${'a'.repeat(64)}`;

function harness(start: string, options: Partial<SchedulerOptions> = {}) {
  const clock = new FakeClock(start);
  const repository = new InMemoryScheduleRepository();
  const runs = new FakeRuns();
  const events: SchedulerEvent[] = [];
  const latencies: FireLatency[] = [];
  const scheduler = new Scheduler({
    repository,
    runs,
    clock,
    onEvent: (e) => events.push(e),
    onFireLatency: (m) => latencies.push(m),
    ...options
  });
  const timers = jest.spyOn(clock, 'setTimer');
  const advanceTo = async (when: string): Promise<void> => {
    await clock.advanceTo(when);
    await scheduler.idle();
  };
  return { clock, repository, runs, events, latencies, scheduler, timers, advanceTo };
}

/** A stored schedule, as if written by an earlier server process. */
function stored(over: Partial<Schedule> & { id: string; cron: string }): Schedule {
  return {
    workflow: 'iris',
    version: VERSION,
    timezone: 'UTC',
    params: {},
    concurrencyPolicy: 'Allow',
    missedRunPolicy: 'skip',
    paused: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over
  };
}

const pendingIso = (clock: FakeClock): string[] => clock.pending().map((d) => d.toISOString());
const kinds = (events: SchedulerEvent[]): string[] => events.map((e) => (e.kind === 'skipped' ? `skipped:${e.reason}` : e.kind));

describe('Scheduler: firing on time with one exact timer', () => {
  it('sets a single timer to the next fire and fires at the scheduled second', async () => {
    const h = harness('2026-05-04T10:01:30.000Z');
    await h.scheduler.start();
    expect(h.clock.pending()).toEqual([]);
    await h.scheduler.create({ id: 'every5', workflow: 'iris', version: VERSION, cron: '*/5 * * * *', concurrencyPolicy: 'Allow' });
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T10:05:00.000Z']);
    await h.advanceTo('2026-05-04T10:20:00.000Z');
    expect(h.runs.fireTimes()).toEqual([
      '2026-05-04T10:05:00.000Z',
      '2026-05-04T10:10:00.000Z',
      '2026-05-04T10:15:00.000Z',
      '2026-05-04T10:20:00.000Z'
    ]);
    expect(h.runs.launched[0].runId).toBe('s-every5-20260504t100500z');
    expect(h.latencies.map((l) => l.latencyMs)).toEqual([0, 0, 0, 0]);
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T10:25:00.000Z']);
    // One arm on create, one re-arm per fire: no polling in between.
    expect(h.timers).toHaveBeenCalledTimes(5);
  });

  it('keeps one timer for many schedules, at the earliest fire', async () => {
    const h = harness('2026-05-04T10:00:00.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'noon', workflow: 'iris', version: VERSION, cron: '0 12 * * *' });
    await h.scheduler.create({ id: 'quarter', workflow: 'iris', version: VERSION, cron: '15 10 * * *' });
    await h.scheduler.create({ id: 'berlin', workflow: 'iris', version: VERSION, cron: '0 13 * * *', timezone: 'Europe/Berlin' });
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T10:15:00.000Z']);
    await h.advanceTo('2026-05-04T10:15:00.000Z');
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T11:00:00.000Z']); // 13:00 CEST
    await h.advanceTo('2026-05-04T12:00:00.000Z');
    expect(h.runs.launched.map((l) => [l.scheduleId, l.fireTime])).toEqual([
      ['quarter', '2026-05-04T10:15:00.000Z'],
      ['berlin', '2026-05-04T11:00:00.000Z'],
      ['noon', '2026-05-04T12:00:00.000Z']
    ]);
  });

  it('fires on the DST days of Europe/Berlin: once in the gap (03:00), once in the overlap', async () => {
    const h = harness('2026-03-28T12:00:00.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'b', workflow: 'iris', version: VERSION, cron: '30 2 * * *', timezone: 'Europe/Berlin', concurrencyPolicy: 'Allow' });
    await h.advanceTo('2026-03-30T12:00:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    await h.clock.advanceTo('2026-10-24T12:00:00.000Z'); // (fires in between are not looked at here)
    h.runs.launched.length = 0;
    await h.advanceTo('2026-10-26T12:00:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('fires on the DST days of America/New_York', async () => {
    const h = harness('2026-03-07T12:00:00.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'ny', workflow: 'iris', version: VERSION, cron: '30 2 * * *', timezone: 'America/New_York', concurrencyPolicy: 'Allow' });
    await h.advanceTo('2026-03-09T12:00:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
    await h.scheduler.update('ny', { cron: '30 1 * * *' });
    await h.clock.advanceTo('2026-10-31T12:00:00.000Z');
    h.runs.launched.length = 0;
    await h.advanceTo('2026-11-02T12:00:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('re-arms in steps no longer than setTimeout allows for far fires', async () => {
    const h = harness('2026-01-02T00:00:00.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'yearly', workflow: 'iris', version: VERSION, cron: '0 0 1 1 *' });
    expect(h.timers.mock.calls[0][1]).toBe(MAX_TIMER_DELAY_MS);
    await h.advanceTo('2027-01-01T00:00:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(h.latencies[0].latencyMs).toBe(0);
  });
});

describe('Scheduler: concurrency policies', () => {
  it('Allow launches while earlier runs are active', async () => {
    const h = harness('2026-05-04T10:00:30.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'a', workflow: 'iris', version: VERSION, cron: '* * * * *', concurrencyPolicy: 'Allow' });
    await h.advanceTo('2026-05-04T10:03:00.000Z');
    expect(h.runs.fireTimes()).toHaveLength(3);
    expect(await h.runs.activeRuns('a')).toHaveLength(3);
  });

  it('Forbid skips a fire while a run of the schedule is active', async () => {
    const h = harness('2026-05-04T10:00:30.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'f', workflow: 'iris', version: VERSION, cron: '* * * * *', concurrencyPolicy: 'Forbid' });
    await h.advanceTo('2026-05-04T10:02:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-05-04T10:01:00.000Z']);
    expect(kinds(h.events)).toEqual(['launched', 'skipped:forbid']);
    const skipped = h.events[1];
    expect(skipped.kind === 'skipped' && skipped.reason === 'forbid' && skipped.activeRuns).toEqual(['s-f-20260504t100100z']);
    h.runs.finish('s-f-20260504t100100z');
    await h.advanceTo('2026-05-04T10:03:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-05-04T10:01:00.000Z', '2026-05-04T10:03:00.000Z']);
    // A forbidden fire still counts as handled: a restart does not replay it.
    expect((await h.repository.getLastFiredAt('f'))?.toISOString()).toBe('2026-05-04T10:03:00.000Z');
  });

  it('Replace cancels the active run, then launches', async () => {
    const h = harness('2026-05-04T10:00:30.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'r', workflow: 'iris', version: VERSION, cron: '* * * * *', concurrencyPolicy: 'Replace' });
    await h.advanceTo('2026-05-04T10:02:00.000Z');
    expect(h.runs.cancelled).toEqual(['s-r-20260504t100100z']);
    expect(await h.runs.activeRuns('r')).toEqual(['s-r-20260504t100200z']);
    const last = h.events[h.events.length - 1];
    expect(last.kind === 'launched' && last.replaced).toEqual(['s-r-20260504t100100z']);
  });
});

describe('Scheduler: missed runs on start-up', () => {
  async function restart(policy: 'skip' | 'runOnce', lastFiredAt?: string) {
    const h = harness('2026-01-01T09:30:00.000Z');
    await h.repository.save(stored({ id: 'hourly', cron: '0 * * * *', missedRunPolicy: policy }));
    if (lastFiredAt !== undefined) await h.repository.setLastFiredAt('hourly', new Date(lastFiredAt));
    await h.scheduler.start();
    await h.scheduler.idle();
    return h;
  }

  it('skip: fires none of the missed fires, and resumes at the next', async () => {
    const h = await restart('skip', '2026-01-01T05:00:00.000Z'); // 06:00..09:00 missed
    expect(h.runs.launched).toEqual([]);
    expect(kinds(h.events)).toEqual(['skipped:missed']);
    expect(h.events[0].kind === 'skipped' && h.events[0].fireTime.toISOString()).toBe('2026-01-01T09:00:00.000Z');
    expect(pendingIso(h.clock)).toEqual(['2026-01-01T10:00:00.000Z']);
    await h.advanceTo('2026-01-01T10:00:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-01-01T10:00:00.000Z']);
  });

  it('runOnce: fires exactly one run, for the latest missed fire', async () => {
    const h = await restart('runOnce', '2026-01-01T05:00:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-01-01T09:00:00.000Z']);
    expect(h.events[0].kind === 'launched' && h.events[0].missed).toBe(true);
    expect(h.latencies).toEqual([]); // a replay is not an on-time fire
    expect(pendingIso(h.clock)).toEqual(['2026-01-01T10:00:00.000Z']);
    expect((await h.repository.getLastFiredAt('hourly'))?.toISOString()).toBe('2026-01-01T09:00:00.000Z');
  });

  it('runOnce with nothing missed fires nothing', async () => {
    const h = await restart('runOnce', '2026-01-01T09:00:00.000Z');
    expect(h.runs.launched).toEqual([]);
    expect(h.events).toEqual([]);
  });

  it('counts from the last update when the schedule never fired', async () => {
    const h = await restart('runOnce'); // updatedAt 00:00; 01:00..09:00 missed
    expect(h.runs.fireTimes()).toEqual(['2026-01-01T09:00:00.000Z']);
  });

  it('a paused schedule replays nothing and arms no timer', async () => {
    const h = harness('2026-01-01T09:30:00.000Z');
    await h.repository.save(stored({ id: 'p', cron: '0 * * * *', missedRunPolicy: 'runOnce', paused: true }));
    await h.scheduler.start();
    await h.scheduler.idle();
    expect(h.runs.launched).toEqual([]);
    expect(h.clock.pending()).toEqual([]);
  });

  it('a stored schedule whose cron no longer parses is reported, not fatal', async () => {
    const h = harness('2026-01-01T09:30:00.000Z');
    await h.repository.save(stored({ id: 'bad', cron: '0 0 30 2 *' }));
    await h.repository.save(stored({ id: 'good', cron: '0 * * * *' }));
    await h.scheduler.start();
    expect(h.events.map((e) => e.kind === 'error' && e.scheduleId)).toEqual(['bad']);
    expect(pendingIso(h.clock)).toEqual(['2026-01-01T10:00:00.000Z']);
  });

  it('a timer that wakes long after its fire (process stalled) applies the missed-run policy', async () => {
    for (const policy of ['skip', 'runOnce'] as const) {
      const h = harness('2026-05-04T10:00:30.000Z', { misfireGraceMs: 10_000 });
      await h.scheduler.start();
      await h.scheduler.create({ id: 'm', workflow: 'iris', version: VERSION, cron: '* * * * *', missedRunPolicy: policy });
      h.clock.jump('2026-05-04T10:05:30.000Z'); // 10:01..10:05 passed while nothing ran; 10:05 is 30 s late
      await h.advanceTo('2026-05-04T10:05:30.000Z');
      expect(h.runs.fireTimes()).toEqual(policy === 'skip' ? [] : ['2026-05-04T10:05:00.000Z']);
      expect(pendingIso(h.clock)).toEqual(['2026-05-04T10:06:00.000Z']);
    }
  });

  it('a timer late by less than the grace period still fires, and the lateness is measured', async () => {
    const h = harness('2026-05-04T10:00:30.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'late', workflow: 'iris', version: VERSION, cron: '* * * * *', missedRunPolicy: 'skip' });
    h.clock.jump('2026-05-04T10:01:00.750Z');
    await h.advanceTo('2026-05-04T10:01:00.750Z');
    expect(h.runs.fireTimes()).toEqual(['2026-05-04T10:01:00.000Z']);
    expect(h.latencies.map((l) => [l.runId, l.latencyMs])).toEqual([['s-late-20260504t100100z', 750]]);
  });
});

describe('Scheduler: deduplication', () => {
  it('a double fire of the same second is a no-op', async () => {
    const h = harness('2026-05-04T10:00:30.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'd', workflow: 'iris', version: VERSION, cron: '* * * * *' });
    const t = new Date('2026-05-04T10:01:00.000Z');
    const [first, second] = await Promise.all([h.scheduler.fire('d', t), h.scheduler.fire('d', t)]);
    expect(first.kind).toBe('launched');
    expect(second).toEqual({ kind: 'duplicate', scheduleId: 'd', fireTime: t, runId: 's-d-20260504t100100z' });
    // The timer's own fire of that second finds the run too.
    await h.advanceTo('2026-05-04T10:01:00.000Z');
    expect(h.runs.launched).toHaveLength(1);
    expect(kinds(h.events)).toEqual(['launched', 'duplicate', 'duplicate']);
  });

  it('a crash between launch and recording lastFiredAt replays into a no-op', async () => {
    const h = harness('2026-01-01T09:30:00.000Z');
    await h.repository.save(stored({ id: 'c', cron: '0 * * * *', missedRunPolicy: 'runOnce' }));
    await h.repository.setLastFiredAt('c', new Date('2026-01-01T08:00:00.000Z'));
    h.runs.existing.add(scheduledRunId('c', new Date('2026-01-01T09:00:00.000Z'))); // launched before the crash
    await h.scheduler.start();
    await h.scheduler.idle();
    expect(h.runs.launched).toEqual([]);
    expect(kinds(h.events)).toEqual(['duplicate']);
    expect((await h.repository.getLastFiredAt('c'))?.toISOString()).toBe('2026-01-01T09:00:00.000Z');
  });

  it('a failed launch is reported and later fires go on', async () => {
    const h = harness('2026-05-04T10:00:30.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'x', workflow: 'iris', version: VERSION, cron: '* * * * *' });
    h.runs.failNext = new Error('version not found');
    await h.advanceTo('2026-05-04T10:02:00.000Z');
    expect(kinds(h.events)).toEqual(['failed', 'launched']);
    expect(h.events[0].kind === 'failed' && h.events[0].error.message).toBe('version not found');
    expect(h.runs.fireTimes()).toEqual(['2026-05-04T10:02:00.000Z']);
  });
});

describe('Scheduler: pause, resume, update, delete re-arm the timer', () => {
  it('pause stops firing; resume fires from the next fire after now, never replaying the pause', async () => {
    const h = harness('2026-05-04T10:00:30.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'p', workflow: 'iris', version: VERSION, cron: '* * * * *', missedRunPolicy: 'runOnce', concurrencyPolicy: 'Allow' });
    await h.advanceTo('2026-05-04T10:01:00.000Z');
    const paused = await h.scheduler.pause('p');
    expect(paused.paused).toBe(true);
    expect(paused.nextFires).toEqual([]);
    expect(h.clock.pending()).toEqual([]);
    await h.advanceTo('2026-05-04T10:10:30.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-05-04T10:01:00.000Z']);
    const resumed = await h.scheduler.resume('p');
    expect(resumed.nextFires[0]).toBe('2026-05-04T10:11:00.000Z');
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T10:11:00.000Z']);
    await h.advanceTo('2026-05-04T10:11:00.000Z');
    expect(h.runs.fireTimes()).toEqual(['2026-05-04T10:01:00.000Z', '2026-05-04T10:11:00.000Z']);
    // And a restart after the resume does not replay the paused stretch either.
    const again = new Scheduler({ repository: h.repository, runs: h.runs, clock: h.clock });
    await h.scheduler.stop();
    await again.start();
    await again.idle();
    expect(h.runs.launched).toHaveLength(2);
    await again.stop();
  });

  it('update re-arms to the new cron, zone and params', async () => {
    const h = harness('2026-05-04T10:00:00.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'u', workflow: 'iris', version: VERSION, cron: '0 12 * * *', params: { epochs: 1 } });
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T12:00:00.000Z']);
    await h.scheduler.update('u', { cron: '30 10 * * *', params: { epochs: 5 } });
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T10:30:00.000Z']);
    await h.scheduler.update('u', { timezone: 'Europe/Berlin' }); // 10:30 CEST = 08:30Z, passed: tomorrow
    expect(pendingIso(h.clock)).toEqual(['2026-05-05T08:30:00.000Z']);
    await h.scheduler.update('u', { timezone: 'America/New_York' }); // 10:30 EDT = 14:30Z
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T14:30:00.000Z']);
    await h.advanceTo('2026-05-04T14:30:00.000Z');
    expect(h.runs.launched.map((l) => [l.fireTime, l.params])).toEqual([['2026-05-04T14:30:00.000Z', { epochs: 5 }]]);
    const view = await h.scheduler.get('u');
    expect(view.updatedAt).toBe('2026-05-04T10:00:00.000Z');
    expect(view.createdAt).toBe('2026-05-04T10:00:00.000Z');
    expect(view.lastFiredAt).toBe('2026-05-04T14:30:00.000Z');
  });

  it('delete disarms; the timer moves to the next schedule', async () => {
    const h = harness('2026-05-04T10:00:00.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'first', workflow: 'iris', version: VERSION, cron: '0 11 * * *' });
    await h.scheduler.create({ id: 'second', workflow: 'iris', version: VERSION, cron: '0 12 * * *' });
    await h.scheduler.delete('first');
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T12:00:00.000Z']);
    await h.scheduler.delete('second');
    expect(h.clock.pending()).toEqual([]);
    await h.advanceTo('2026-05-05T00:00:00.000Z');
    expect(h.runs.launched).toEqual([]);
    await expect(h.scheduler.delete('second')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('stop disarms and start picks up where the repository says', async () => {
    const h = harness('2026-05-04T10:00:30.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 's', workflow: 'iris', version: VERSION, cron: '* * * * *' });
    await h.scheduler.stop();
    expect(h.clock.pending()).toEqual([]);
    await h.scheduler.start();
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T10:01:00.000Z']);
  });
});

describe('Scheduler: create, update and views', () => {
  it('refuses bad input naming the field, and stores nothing', async () => {
    const h = harness('2026-05-04T10:00:00.000Z');
    await h.scheduler.start();
    const base = { workflow: 'iris', version: VERSION };
    const cases: Array<[unknown, string]> = [
      [{ ...base, cron: '61 * * * *' }, 'cron'],
      [{ ...base, cron: '0 0 30 2 *' }, 'cron'],
      [{ ...base, cron: '* * *' }, 'cron'],
      [{ ...base, cron: '0 0 * * *', timezone: 'Mars/Base' }, 'timezone'],
      [{ ...base, cron: '0 0 * * *', colour: 'red' }, 'colour'],
      [{ ...base, cron: '0 0 * * *', concurrencyPolicy: 'Sometimes' }, 'concurrencyPolicy'],
      [{ ...base, cron: '0 0 * * *', id: '../x' }, 'id'],
      [{ ...base, cron: '0 0 * * *', version: 'latest' }, 'version'],
      [{ ...base, cron: '0 0 * * *', webhookUrl: 'file:///etc/passwd' }, 'webhookUrl'],
      [{ ...base, cron: '0 0 * * *', params: { f: () => 1 } }, 'params.f']
    ];
    for (const [body, field] of cases) {
      const e = await h.scheduler.create(body as never).then(
        () => undefined,
        (err: unknown) => err
      );
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe(field);
    }
    expect(await h.repository.list()).toEqual([]);
    expect(h.clock.pending()).toEqual([]);
  });

  it('refuses a taken id, an unknown id, and a bad update without changing the schedule', async () => {
    const h = harness('2026-05-04T10:00:00.000Z');
    await h.scheduler.start();
    await h.scheduler.create({ id: 'one', workflow: 'iris', version: VERSION, cron: '0 * * * *' });
    await expect(h.scheduler.create({ id: 'one', workflow: 'iris', version: VERSION, cron: '0 * * * *' })).rejects.toBeInstanceOf(
      ScheduleConflictError
    );
    await expect(h.scheduler.update('nope', { paused: true })).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.scheduler.get('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.scheduler.update('one', { cron: '0 0 31 2 *' })).rejects.toMatchObject({ field: 'cron' });
    await expect(h.scheduler.update('one', { workflow: 'other' } as never)).rejects.toMatchObject({ field: 'workflow' });
    expect((await h.scheduler.get('one')).cron).toBe('0 * * * *');
    expect(pendingIso(h.clock)).toEqual(['2026-05-04T11:00:00.000Z']);
  });

  it('fills defaults, derives an id, and shows next fires with a description', async () => {
    const h = harness('2026-03-28T12:00:00.000Z');
    await h.scheduler.start();
    const view = await h.scheduler.create({ workflow: 'iris', version: VERSION, cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    expect(view.id).toMatch(/^iris-[0-9a-f]{6}$/);
    expect(view).toMatchObject({
      timezone: 'Europe/Berlin',
      params: {},
      concurrencyPolicy: 'Forbid',
      missedRunPolicy: 'skip',
      paused: false,
      description: 'At 02:30, every day (Europe/Berlin)'
    });
    expect(view.nextFires.slice(0, 3)).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z']);
    expect(view.nextFires).toHaveLength(5);
    expect(ScheduleView.safeParse(view).success).toBe(true);
    await h.scheduler.update(view.id, { webhookUrl: 'https://hooks.example.com/x' });
    expect((await h.scheduler.get(view.id)).webhookUrl).toBe('https://hooks.example.com/x');
    const cleared = await h.scheduler.update(view.id, { webhookUrl: null });
    expect('webhookUrl' in cleared).toBe(false);
    await h.scheduler.create({ id: 'a-first', workflow: 'iris', version: VERSION, cron: '0 0 * * *' });
    expect((await h.scheduler.list()).map((s) => s.id)).toEqual(['a-first', view.id]);
  });
});

/** Replicas' schedulers over one repository that grants each fire instant to one claimant (as the database does). */
class ClaimingRepository extends InMemoryScheduleRepository {
  readonly claims = new Map<string, number>();
  async claimFire(id: string, fireTime: Date, lateMs: number): Promise<boolean> {
    const key = `${id}@${fireTime.toISOString()}`;
    if (this.claims.has(key)) return false;
    this.claims.set(key, lateMs);
    return true;
  }
}

describe('Scheduler: replicas on one repository', () => {
  it('fires each instant once across replicas, picks up schedules created elsewhere, and records how late a fire was handled', async () => {
    const clock = new FakeClock('2026-05-04T10:00:30.000Z');
    const repository = new ClaimingRepository();
    const runs = new FakeRuns();
    // Each replica has its own process memory: only the repository and the runs are shared.
    const replicas = [1, 2].map(() => new Scheduler({ repository, runs, clock }));
    for (const s of replicas) await s.start();
    await replicas[0].create({ id: 'minutely', workflow: 'iris', version: VERSION, cron: '* * * * *', concurrencyPolicy: 'Allow' });
    await replicas[1].refresh();
    await clock.advanceTo('2026-05-04T10:05:00.000Z');
    for (const s of replicas) await s.idle();
    expect(runs.fireTimes('minutely')).toEqual(['01', '02', '03', '04', '05'].map((m) => `2026-05-04T10:${m}:00.000Z`));
    expect(repository.claims.size).toBe(5);
    expect(runs.launched.every((l) => l.lateMs === 0)).toBe(true);

    // A fire handled 30 s after its instant (a replica stalled by load) still runs once, its lateness recorded.
    await clock.advanceTo('2026-05-04T10:05:30.000Z');
    const outcomes = await Promise.all(replicas.map((s) => s.fire('minutely', new Date('2026-05-04T10:05:00.000Z'))));
    expect(outcomes.map((o) => o.kind)).toEqual(['duplicate', 'duplicate']);
    const stalled = await replicas[1].fire('minutely', new Date('2026-05-04T10:04:30.000Z'));
    expect(stalled.kind).toBe('launched');
    expect(runs.launched.at(-1)).toMatchObject({ fireTime: '2026-05-04T10:04:30.000Z', lateMs: 60_000 });
    expect(repository.claims.get('minutely@2026-05-04T10:04:30.000Z')).toBe(60_000);
    for (const s of replicas) await s.stop();
  });
});
