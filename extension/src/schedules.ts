import type { CronPreviewResponse, ScheduleView } from '@cellgraph/schema';
import { ServerError } from './errors';

/**
 * How the UI writes schedules, as pure functions: the zones a schedule can pick, a fire
 * instant with its zone, a schedule's one-line summary (the zone said once), and what the
 * server's preview of a cron expression says (checkCron).
 */

/** Every IANA zone the browser knows, UTC first, with `current` kept when the browser lacks it. */
export function scheduleZones(current?: string, supported: () => string[] = browserZones): string[] {
  const zones = new Set(['UTC', ...supported()]);
  if (current !== undefined && current !== '') zones.add(current);
  return [...zones];
}

function browserZones(): string[] {
  // ES2022's lib has no Intl.supportedValuesOf (ES2022 browsers do): typed here.
  const intl = Intl as unknown as { supportedValuesOf?: (key: 'timeZone') => string[] };
  return intl.supportedValuesOf?.('timeZone') ?? [];
}

/**
 * A fire instant in the schedule's zone, the zone named, 24-hour as the server's sentence
 * (`5 Dec 2026, 06:00 (Europe/Berlin)`).
 */
export function formatFire(iso: string, timeZone: string, locale?: string): string {
  return `${new Date(iso).toLocaleString(locale, { timeZone, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' })} (${timeZone})`;
}

/**
 * `0 6 * * 1-5 · At 06:00, Monday through Friday (Europe/Berlin) · Forbid · recompute`: the
 * server's description already names the zone, so it is not added again.
 */
export function scheduleSummary(s: Pick<ScheduleView, 'cron' | 'description' | 'timezone' | 'concurrencyPolicy' | 'cachePolicy'>): string {
  const when = s.description.includes(`(${s.timezone})`) ? s.description : `${s.description} (${s.timezone})`;
  return [s.cron, when, s.concurrencyPolicy, s.cachePolicy === 'recompute' ? 'recompute' : 'reuse cache'].join(' · ');
}

/** A cron preview's objection, under the field it is about. */
export interface CronProblem {
  field: 'cron' | 'timezone';
  message: string;
}

/** What a cron expression in a zone means: its sentence and next fires (each with its zone), or why not. */
export type CronCheck = { ok: true; description: string; fires: string[] } | { ok: false; problem: CronProblem };

/** The message for a schedule being created without a cron expression. */
export const CRON_REQUIRED = 'a cron expression is required to create a schedule (5 fields: minute hour day month weekday, e.g. 0 6 * * 1-5)';

/**
 * Checks a cron expression in a time zone with the server's preview (`previewCron`, passed
 * in as `preview`): the server's sentence and the next fires in the zone, the zone named on
 * each; a refusal is put under the time-zone field when the server names `body.timezone`,
 * under the cron field otherwise. An empty expression is refused when `required` (a schedule
 * is being created) and means "no schedule" otherwise (an empty description, no fires).
 * The one cron preview of the UI: the schedule editor and the promote dialog both use it.
 */
export async function checkCron(
  preview: (body: { cron: string; timezone: string; count: number }) => Promise<CronPreviewResponse>,
  cronText: string,
  timezoneText: string,
  required: boolean,
  locale?: string
): Promise<CronCheck> {
  const cron = cronText.trim();
  const timezone = timezoneText.trim() || 'UTC';
  if (cron === '') return required ? { ok: false, problem: { field: 'cron', message: CRON_REQUIRED } } : { ok: true, description: '', fires: [] };
  try {
    const p = await preview({ cron, timezone, count: 5 });
    // The server's sentence already names the zone; each fire says it too.
    return { ok: true, description: p.description, fires: p.nextFires.map((f) => formatFire(f, timezone, locale)) };
  } catch (err) {
    const field = err instanceof ServerError && err.field === 'body.timezone' ? 'timezone' : 'cron';
    return { ok: false, problem: { field, message: (err as Error).message } };
  }
}
