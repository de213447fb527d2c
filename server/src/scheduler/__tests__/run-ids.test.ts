import { RunId } from '@cellgraph/schema';
import { ValidationError } from '../../errors';
import { parseScheduledRunId, scheduledRunId } from '../run-ids';

describe('scheduled run ids', () => {
  it('derive from schedule id and fire second, and satisfy RunId', () => {
    const id = scheduledRunId('nightly-iris', new Date('2026-03-29T01:00:00.000Z'));
    expect(id).toBe('s-nightly-iris-20260329t010000z');
    expect(RunId.safeParse(id).success).toBe(true);
    // Same second, same id: a double fire cannot create two runs.
    expect(scheduledRunId('nightly-iris', new Date('2026-03-29T01:00:00.999Z'))).toBe(id);
    expect(scheduledRunId('nightly-iris', new Date('2026-03-29T01:00:01.000Z'))).not.toBe(id);
    expect(scheduledRunId('other', new Date('2026-03-29T01:00:00.000Z'))).not.toBe(id);
  });

  it('fit RunId for the longest schedule id', () => {
    const id = scheduledRunId('a'.repeat(63), new Date('2026-01-01T00:00:00Z'));
    expect(RunId.safeParse(id).success).toBe(true);
  });

  it('round-trip', () => {
    const t = new Date('2026-11-01T05:30:00.000Z');
    expect(parseScheduledRunId(scheduledRunId('a-b_c-20260101t000000z', t))).toEqual({ scheduleId: 'a-b_c-20260101t000000z', fireTime: t });
    expect(parseScheduledRunId('r-20260101-abc')).toBeUndefined();
    expect(parseScheduledRunId('s--20260101t000000z')).toBeUndefined();
    expect(parseScheduledRunId('s-x-20261399t000000z')).toBeUndefined();
  });

  it('refuse an id that cannot be a run id, and an invalid date', () => {
    expect(() => scheduledRunId('../etc', new Date())).toThrow(ValidationError);
    expect(() => scheduledRunId('ok', new Date('nope'))).toThrow(ValidationError);
  });
});
