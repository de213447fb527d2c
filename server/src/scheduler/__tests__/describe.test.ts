import { describeCron } from '../describe';

describe('describeCron', () => {
  it('describes in 24-hour time, with the zone', () => {
    expect(describeCron('30 2 * * *', 'Europe/Berlin')).toBe('At 02:30, every day (Europe/Berlin)');
    expect(describeCron('*/15 9-17 * * 1-5')).toMatch(/^Every 15 minutes, between 09:00 and 17:59, Monday through Friday/);
    expect(describeCron('0 0 L * *')).toMatch(/last day of the month/);
  });

  it('falls back to the expression instead of throwing', () => {
    expect(describeCron('not cron at all')).toBe('cron "not cron at all"');
  });
});
