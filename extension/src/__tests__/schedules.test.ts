/** How schedules read in the UI: zones to pick from, fires with their zone, the zone said once. */
import { formatFire, scheduleSummary, scheduleZones } from '../schedules';

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
