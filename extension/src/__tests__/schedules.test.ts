/** How schedules read in the UI: zones to pick from, fires with their zone, the zone said once. */
import type { CronPreviewResponse } from '@cellgraph/schema';
import { ServerError } from '../errors';
import { CRON_REQUIRED, checkCron, formatFire, scheduleSummary, scheduleZones } from '../schedules';

it('offers UTC and every zone the browser knows, keeping a stored zone it does not list', () => {
  expect(scheduleZones('Europe/Berlin', () => ['Africa/Abidjan', 'Europe/Berlin'])).toEqual(['UTC', 'Africa/Abidjan', 'Europe/Berlin']);
  expect(scheduleZones('US/Eastern', () => ['America/New_York'])).toEqual(['UTC', 'America/New_York', 'US/Eastern']);
});

it('names the zone of every next fire', () => {
  expect(formatFire('2026-12-05T05:00:00.000Z', 'Europe/Berlin', 'en-GB')).toBe('5 Dec 2026, 06:00 (Europe/Berlin)');
  expect(formatFire('2026-12-05T13:30:00.000Z', 'America/New_York', 'en-US')).toBe('Dec 5, 2026, 08:30 (America/New_York)');
});

it('says the zone once in a schedule summary ("(Europe/Berlin) (Europe/Berlin)" was printed)', () => {
  const s = { cron: '0 2 * * *', description: 'At 02:00, every day (Europe/Berlin)', timezone: 'Europe/Berlin', concurrencyPolicy: 'Forbid' as const };
  expect(scheduleSummary(s)).toBe('0 2 * * * · At 02:00, every day (Europe/Berlin) · Forbid · reuse cache');
  expect(scheduleSummary({ ...s, description: 'At 02:00, every day', cachePolicy: 'recompute' })).toBe('0 2 * * * · At 02:00, every day (Europe/Berlin) · Forbid · recompute');
});

describe('checkCron: the one cron preview (schedule editor and promote dialog)', () => {
  const answer: CronPreviewResponse = { description: 'At 06:00, Monday through Friday (Europe/Berlin)', nextFires: ['2026-12-07T05:00:00.000Z', '2026-12-08T05:00:00.000Z'] };
  const asked: unknown[] = [];
  const preview = async (body: unknown) => {
    asked.push(body);
    return answer;
  };
  beforeEach(() => (asked.length = 0));

  it('shows the sentence and every next fire with its zone (the promote dialog printed fires without it)', async () => {
    expect(await checkCron(preview, ' 0 6 * * 1-5 ', 'Europe/Berlin', false, 'en-GB')).toEqual({
      ok: true,
      description: answer.description,
      fires: ['7 Dec 2026, 06:00 (Europe/Berlin)', '8 Dec 2026, 06:00 (Europe/Berlin)']
    });
    expect(asked).toEqual([{ cron: '0 6 * * 1-5', timezone: 'Europe/Berlin', count: 5 }]);
  });

  it('refuses an empty cron where a schedule is being created, without asking the server', async () => {
    expect(await checkCron(preview, '  ', 'UTC', true)).toEqual({ ok: false, problem: { field: 'cron', message: CRON_REQUIRED } });
    expect(CRON_REQUIRED).toContain('cron expression is required');
    expect(asked).toEqual([]);
  });

  it('reads an empty cron as "no schedule" where the schedule is optional (promote)', async () => {
    expect(await checkCron(preview, '', 'UTC', false)).toEqual({ ok: true, description: '', fires: [] });
    expect(asked).toEqual([]);
  });

  it('puts the server’s refusal under the field it names', async () => {
    const refuse = (field: string) => async () => {
      throw new ServerError(422, 'invalid', `${field}: not valid`, field);
    };
    expect(await checkCron(refuse('body.timezone'), '0 6 * * *', 'Mars/Base', true)).toEqual({ ok: false, problem: { field: 'timezone', message: 'body.timezone: not valid' } });
    expect(await checkCron(refuse('body.cron'), '0 6 * *', 'UTC', true)).toEqual({ ok: false, problem: { field: 'cron', message: 'body.cron: not valid' } });
    // A blank zone is read as UTC, as the server's default.
    await checkCron(preview, '0 6 * * *', ' ', true);
    expect(asked).toEqual([{ cron: '0 6 * * *', timezone: 'UTC', count: 5 }]);
  });
});
