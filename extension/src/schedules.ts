import type { ScheduleView } from '@cellgraph/schema';

/**
 * How the UI writes schedules, as pure functions: the zones a schedule can pick, a fire
 * instant with its zone, and a schedule's one-line summary (the zone said once).
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
