import { RunId } from '@cellgraph/schema';
import { ValidationError } from '../errors';
import { parseOrThrow } from '../zod-issue';

/**
 * Run ids of scheduled runs are a function of the schedule and the fire instant:
 * `s-<schedule id>-<yyyymmdd>t<hhmmss>z` (UTC). Two fires of the same schedule at the same
 * second (a timer that fires twice, two server processes, a restart that replays a fire)
 * compute the same id, and the second launch finds the run already there.
 *
 * Schedule ids cannot contain the fixed-width timestamp's shape ambiguously: the suffix is
 * always the last 17 characters, so the mapping is reversible ({@link parseScheduledRunId}).
 */
const PREFIX = 's-';
const SUFFIX = /-(\d{8})t(\d{6})z$/;

/** The run id for `scheduleId` firing at `fireTime` (whole seconds; milliseconds dropped). */
export function scheduledRunId(scheduleId: string, fireTime: Date): RunId {
  const t = fireTime.getTime();
  if (!Number.isFinite(t)) throw new ValidationError('fire time is not a valid date', 'fireTime');
  const iso = new Date(Math.floor(t / 1000) * 1000).toISOString(); // 2026-03-29T01:00:00.000Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}t${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}z`;
  return parseOrThrow(RunId, `${PREFIX}${scheduleId}-${stamp}`, { context: `schedule id "${scheduleId}" does not make a valid run id`, field: () => 'id', label: () => '' });
}

/** The schedule and fire time a scheduled run id encodes, or undefined for other run ids. */
export function parseScheduledRunId(runId: string): { scheduleId: string; fireTime: Date } | undefined {
  if (!runId.startsWith(PREFIX)) return undefined;
  const m = SUFFIX.exec(runId);
  if (m === null) return undefined;
  const scheduleId = runId.slice(PREFIX.length, runId.length - m[0].length);
  if (scheduleId === '') return undefined;
  const [d, t] = [m[1], m[2]];
  const fireTime = new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`
  );
  return Number.isNaN(fireTime.getTime()) ? undefined : { scheduleId, fireTime };
}
