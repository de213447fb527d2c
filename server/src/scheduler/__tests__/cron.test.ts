import { ValidationError } from '../../errors';
import { parseCron, validateTimezone } from '../cron';

const iso = (ds: Date[]): string[] => ds.map((d) => d.toISOString());
const fires = (cron: string, tz: string, after: string, n: number): string[] => iso(parseCron(cron, tz).nextN(n, new Date(after)));

function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('parseCron: refusals name the field', () => {
  it.each([
    ['* * * *', /exactly 5 fields.*got 4/],
    ['* * * * * *', /exactly 5 fields.*got 6/],
    ['', /exactly 5 fields.*got 0/],
    ['61 * * * *', /minute: 61/],
    ['0 24 * * *', /hour: 24/],
    ['* * * * 8', /dayOfWeek: 8/],
    ['0 0 0 * *', /day/i],
    ['a b c d e', /illegal characters/],
    ['? * * * *', /characters cron does not allow/],
    ['@daily', /exactly 5 fields/],
    ['5/10 * * * *', /stepping/],
    ['0 0 30 2 *', /never fires/],
    ['0 0 31 4,6,9,11 *', /never fires/]
  ])('refuses cron %j naming `cron`', (expr, message) => {
    const e = refusal(() => parseCron(expr, 'UTC'));
    expect(e.field).toBe('cron');
    expect(e.message).toMatch(/^cron: /);
    expect(e.message).toMatch(message);
  });

  it.each([['Mars/Olympus_Mons'], ['+01:00'], [''], ['Europe/../../etc'], ['Not A Zone']])('refuses timezone %j naming `timezone`', (tz) => {
    const e = refusal(() => parseCron('0 0 * * *', tz));
    expect(e.field).toBe('timezone');
    expect(e.message).toMatch(/^timezone: /);
    expect(() => validateTimezone(tz)).toThrow(ValidationError);
  });

  it('accepts names, ranges, steps, lists, L and a leap day; normalizes spacing', () => {
    expect(parseCron('  0   9 * *  MON-FRI ', 'UTC').expression).toBe('0 9 * * MON-FRI');
    for (const ok of ['*/15 9-17 * * 1-5', '0 0 L * *', '0 12 1,15 JAN,JUL *', '0 0 29 2 *', '0 8 * * 5#2']) {
      expect(() => parseCron(ok, 'Europe/Berlin')).not.toThrow();
    }
    expect(validateTimezone('America/New_York')).toBe('America/New_York');
  });
});

describe('next fires across the DST changes of 2026', () => {
  // Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET (both at 01:00Z).
  // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z).

  it('Berlin spring forward: 02:30 (in the gap) fires once, at 03:00 CEST', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST: 02:30 does not exist that day
      '2026-03-30T00:30:00.000Z' // 02:30 CEST
    ]);
  });

  it('Berlin fall back: 02:30 (occurs twice) fires once, at the first occurrence', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 3)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST (the first of the two 02:30s)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z'
    ]);
    // Asked from between the two 02:30s, the second one is not a fire.
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-10-25T00:45:00Z', 1)).toEqual(['2026-10-26T01:30:00.000Z']);
  });

  it('New York spring forward: 02:30 fires once, at 03:00 EDT', () => {
    expect(fires('30 2 * * *', 'America/New_York', '2026-03-06T12:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT
      '2026-03-09T06:30:00.000Z' // 02:30 EDT
    ]);
  });

  it('New York fall back: 01:30 fires once, at 01:30 EDT', () => {
    expect(fires('30 1 * * *', 'America/New_York', '2026-10-30T12:00:00Z', 3)).toEqual([
      '2026-10-31T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, not again at 06:30Z (01:30 EST)
      '2026-11-02T06:30:00.000Z' // 01:30 EST
    ]);
    expect(fires('30 1 * * *', 'America/New_York', '2026-11-01T05:45:00Z', 1)).toEqual(['2026-11-02T06:30:00.000Z']);
  });

  it('a fixed-time list (30 2,14) behaves like a fixed time in the gap', () => {
    expect(fires('30 2,14 * * *', 'Europe/Berlin', '2026-03-28T14:00:00Z', 3)).toEqual([
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-29T12:30:00.000Z', // 14:30 CEST
      '2026-03-30T00:30:00.000Z'
    ]);
  });

  it('hourly jobs follow elapsed time: the missing hour is skipped, the repeated hour fires on both passes', () => {
    expect(fires('0 * * * *', 'America/New_York', '2026-03-08T05:30:00Z', 3)).toEqual([
      '2026-03-08T06:00:00.000Z', // 01:00 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT (02:00 does not exist)
      '2026-03-08T08:00:00.000Z'
    ]);
    expect(fires('0 * * * *', 'Europe/Berlin', '2026-10-24T23:30:00Z', 3)).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET, an hour later in real time
      '2026-10-25T02:00:00.000Z' // 03:00 CET
    ]);
  });

  it('a wildcard-minute job inside the missing hour does not run that day', () => {
    expect(fires('*/30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 2)).toEqual([
      '2026-03-30T00:00:00.000Z', // 02:00 CEST on the 30th; nothing on the 29th
      '2026-03-30T00:30:00.000Z'
    ]);
  });

  it('weekday 09:00 keeps its local time across the change', () => {
    expect(fires('0 9 * * 1-5', 'America/New_York', '2026-03-05T15:00:00Z', 3)).toEqual([
      '2026-03-06T14:00:00.000Z', // Fri 09:00 EST
      '2026-03-09T13:00:00.000Z', // Mon 09:00 EDT
      '2026-03-10T13:00:00.000Z'
    ]);
  });

  it('day-of-month and day-of-week are OR-ed as in Vixie cron', () => {
    expect(fires('0 0 1 * MON', 'UTC', '2026-03-28T12:00:00Z', 3)).toEqual([
      '2026-03-30T00:00:00.000Z', // Monday
      '2026-04-01T00:00:00.000Z', // the 1st
      '2026-04-06T00:00:00.000Z'
    ]);
  });

  it('latestAtOrBefore includes a fire exactly at the reference', () => {
    const c = parseCron('0 * * * *', 'UTC');
    expect(c.latestAtOrBefore(new Date('2026-01-01T10:00:00.000Z'))?.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    expect(c.latestAtOrBefore(new Date('2026-01-01T09:59:59.999Z'))?.toISOString()).toBe('2026-01-01T09:00:00.000Z');
    expect(c.next(new Date('2026-01-01T10:00:00.000Z'))?.toISOString()).toBe('2026-01-01T11:00:00.000Z');
  });
});
