/** The server's scheduler log: what an operator reads when a lost fire is recovered. */
import { schedulerLog } from '../scheduler-log';

describe('schedulerLog', () => {
  it('says which fire is recovered, from whom, and how it ends', () => {
    const lines: string[] = [];
    const log = schedulerLog((line) => lines.push(line));
    const fireTime = new Date('2026-12-05T03:00:00.000Z');
    const runId = 's-nightly-20261205t030000z';
    log.onEvent({ kind: 'recovering', scheduleId: 'nightly', fireTime, runId, claimedBy: 'replica-0', claimedAt: new Date('2026-12-05T03:00:00.004Z') });
    log.onFireLatency({ scheduleId: 'nightly', runId, scheduledAt: fireTime, launchedAt: new Date('2026-12-05T03:00:33.012Z'), latencyMs: 33_012 });
    log.onEvent({ kind: 'launched', scheduleId: 'nightly', fireTime, runId, missed: false, replaced: [] });
    log.onEvent({ kind: 'skipped', scheduleId: 'hourly', fireTime, reason: 'superseded', by: new Date('2026-12-05T05:00:00.000Z') });
    expect(lines).toEqual([
      'cellgraph server: schedule nightly: recovering the fire at 2026-12-05T03:00:00.000Z: claimed by replica-0 at 2026-12-05T03:00:00.004Z, but run s-nightly-20261205t030000z was never recorded (that process stopped); firing it again',
      'cellgraph server: schedule nightly: started run s-nightly-20261205t030000z for 2026-12-05T03:00:00.000Z in 33012 ms',
      'cellgraph server: schedule hourly: skipped the fire at 2026-12-05T03:00:00.000Z, missed: the later fire at 2026-12-05T05:00:00.000Z is the one run for it (missedRunPolicy runOnce)'
    ]);
  });
});
