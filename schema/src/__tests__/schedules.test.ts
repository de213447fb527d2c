import { CronExpression, isKnownTimeZone, Schedule, ScheduleCreate, ScheduleId, ScheduleUpdate, ScheduleView, TimeZone } from '..';

const VERSION = `sha256:${'c'.repeat(64)}`;
const base = { workflow: 'iris', version: VERSION, cron: '30 2 * * *' };

function firstIssue(r: { success: boolean; error?: { issues: Array<{ path: (string | number)[]; message: string; code: string }> } }) {
  expect(r.success).toBe(false);
  return r.error!.issues[0];
}

describe('ScheduleCreate', () => {
  it('fills defaults', () => {
    expect(ScheduleCreate.parse(base)).toEqual({
      ...base,
      timezone: 'UTC',
      params: {},
      concurrencyPolicy: 'Forbid',
      missedRunPolicy: 'skip',
      paused: false
    });
  });

  it.each([
    [{ ...base, cron: '30 2 * *' }, 'cron', /exactly 5 fields/],
    [{ ...base, cron: '0 0 0 * * *' }, 'cron', /exactly 5 fields.*got 6/],
    [{ ...base, cron: '@daily' }, 'cron', /exactly 5 fields/],
    [{ ...base, cron: '? * * * *' }, 'cron', /does not allow/],
    [{ ...base, cron: '0 0 * * $(id)' }, 'cron', /does not allow/],
    [{ ...base, cron: 5 }, 'cron', /Expected string/],
    [{ ...base, timezone: 'Mars/Base' }, 'timezone', /unknown time zone "Mars\/Base"/],
    [{ ...base, timezone: '+01:00' }, 'timezone', /IANA/],
    [{ ...base, timezone: '../../etc/passwd' }, 'timezone', /IANA/],
    [{ ...base, concurrencyPolicy: 'forbid' }, 'concurrencyPolicy', /Invalid enum value/],
    [{ ...base, missedRunPolicy: 'all' }, 'missedRunPolicy', /Invalid enum value/],
    [{ ...base, id: 'Nightly' }, 'id', /must match/],
    [{ ...base, id: 'a.b' }, 'id', /must match/],
    [{ ...base, version: 'sha256:abc' }, 'version', /sha256/],
    [{ ...base, workflow: '../x' }, 'workflow', /must match/],
    [{ ...base, webhookUrl: 'javascript:alert(1)' }, 'webhookUrl', /http/],
    [{ ...base, webhookUrl: 'not a url' }, 'webhookUrl', /absolute URL/],
    [{ ...base, params: { x: undefined } }, 'params.x', /./]
  ])('refuses %j at %s', (body, field, message) => {
    const issue = firstIssue(ScheduleCreate.safeParse(body));
    expect(issue.path.join('.')).toBe(field);
    expect(issue.message).toMatch(message);
  });

  it('refuses unknown fields (a typo must not fall back to a default)', () => {
    const issue = firstIssue(ScheduleCreate.safeParse({ ...base, timeZone: 'Europe/Berlin' }));
    expect(issue.code).toBe('unrecognized_keys');
    expect(issue.message).toMatch(/timeZone/);
  });
});

describe('ScheduleUpdate', () => {
  it('takes any subset; null clears the webhook', () => {
    expect(ScheduleUpdate.parse({})).toEqual({});
    expect(ScheduleUpdate.parse({ paused: true, webhookUrl: null })).toEqual({ paused: true, webhookUrl: null });
  });

  it('refuses unknown and immutable fields', () => {
    expect(firstIssue(ScheduleUpdate.safeParse({ id: 'x' })).code).toBe('unrecognized_keys');
    expect(firstIssue(ScheduleUpdate.safeParse({ workflow: 'x' })).code).toBe('unrecognized_keys');
    expect(firstIssue(ScheduleUpdate.safeParse({ cron: '1 2 3' })).path).toEqual(['cron']);
    expect(firstIssue(ScheduleUpdate.safeParse({ timezone: 'Nowhere/Land' })).path).toEqual(['timezone']);
  });
});

describe('Schedule and ScheduleView', () => {
  const schedule = {
    ...ScheduleCreate.parse({ ...base, id: 'nightly', timezone: 'Europe/Berlin' }),
    id: 'nightly',
    createdAt: '2026-03-28T12:00:00.000Z',
    updatedAt: '2026-03-28T12:00:00.000Z'
  };

  it('parse a stored schedule and its view', () => {
    expect(Schedule.parse(schedule)).toEqual(schedule);
    const view = { ...schedule, nextFires: ['2026-03-29T01:00:00.000Z'], description: 'At 02:30, every day (Europe/Berlin)' };
    expect(ScheduleView.parse(view)).toEqual(view);
    expect(firstIssue(ScheduleView.safeParse({ ...view, nextFires: ['tomorrow'] })).path).toEqual(['nextFires', 0]);
    expect(firstIssue(Schedule.safeParse({ ...schedule, createdAt: 'yesterday' })).path).toEqual(['createdAt']);
  });
});

describe('building blocks', () => {
  it('ScheduleId, CronExpression, TimeZone', () => {
    expect(ScheduleId.safeParse('nightly-iris_2').success).toBe(true);
    expect(ScheduleId.safeParse('a'.repeat(64)).success).toBe(false);
    expect(CronExpression.safeParse(' */15  9-17 * * MON-FRI ').success).toBe(true);
    expect(CronExpression.safeParse('0 0 L * 5#2').success).toBe(true);
    for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5']) {
      expect(TimeZone.safeParse(tz).success).toBe(true);
    }
    expect(isKnownTimeZone('Europe/Berlin')).toBe(true);
    expect(isKnownTimeZone('Europe/Atlantis')).toBe(false);
  });
});

describe('a schedule name and cache policy', () => {
  it('takes a one-line name and reuse or recompute, refusing others naming the field', () => {
    expect(ScheduleCreate.parse({ ...base, name: ' nightly report ', cachePolicy: 'recompute' })).toMatchObject({ name: 'nightly report', cachePolicy: 'recompute' });
    expect(ScheduleCreate.parse(base).cachePolicy).toBeUndefined();
    const bad = ScheduleCreate.safeParse({ ...base, cachePolicy: 'never' });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join('.'))).toEqual(['cachePolicy']);
    const twoLines = ScheduleCreate.safeParse({ ...base, name: 'a\nb' });
    expect(twoLines.success ? '' : twoLines.error.issues[0].message).toBe('must be one line');
    expect(ScheduleUpdate.parse({ name: null, cachePolicy: 'reuse' })).toEqual({ name: null, cachePolicy: 'reuse' });
  });
});
