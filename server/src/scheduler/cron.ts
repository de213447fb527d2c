import { Cron } from 'croner';
import { CronExpression, isKnownTimeZone, TimeZone } from '@cellgraph/schema';
import { ValidationError } from '../errors';
import { parseOrThrow } from '../zod-issue';

/**
 * Fire times of a 5-field cron expression in an IANA time zone, computed by croner.
 *
 * DST follows Vixie cron (what crontab users expect), via croner's `fixedTimeRule:
 * 'no-wildcard'`:
 * - A fixed-time job (minute and hour have no `*` and no step, e.g. `30 2 * * *` or
 *   `30 2,14 * * *`) whose local time falls in the spring-forward gap runs once, at the
 *   first instant after the jump (02:30 in Europe/Berlin on 2026-03-29 fires at 03:00 CEST).
 *   When the clock falls back, it runs once, at the first occurrence of the repeated time.
 * - A wildcard job (`0 * * * *`, `15,45 * * * *`) follows elapsed time: times that do not
 *   exist are skipped, and a repeated hour fires on both passes (it is another real hour).
 * Day-of-month and day-of-week are OR-ed when both are restricted, as in Vixie cron.
 */
export class CronSchedule {
  private readonly cron: Cron;

  /** Use {@link parseCron}, which turns parser failures into ValidationErrors. */
  private constructor(readonly expression: string, readonly timezone: string) {
    this.cron = new Cron(expression, {
      timezone,
      mode: '5-part',
      fixedTimeRule: 'no-wildcard',
      domAndDow: false,
      paused: true
    });
  }

  /** @internal Constructs without the checks of {@link parseCron}; throws croner's errors. */
  static unchecked(expression: string, timezone: string): CronSchedule {
    return new CronSchedule(expression, timezone);
  }

  /** The first fire strictly after `after`, or undefined when the expression never fires again. */
  next(after: Date): Date | undefined {
    return this.cron.nextRun(after) ?? undefined;
  }

  /** The next `n` fires strictly after `after`, in order. */
  nextN(n: number, after: Date): Date[] {
    return this.cron.nextRuns(n, after);
  }

  /** The latest fire at or before `atOrBefore`, or undefined when there is none. */
  latestAtOrBefore(atOrBefore: Date): Date | undefined {
    // croner includes a run in the reference's own second only if the reference is past
    // it, so look 1 ms later and keep the result only if it is not after `atOrBefore`.
    const [latest] = this.cron.previousRuns(1, new Date(atOrBefore.getTime() + 1));
    return latest !== undefined && latest.getTime() <= atOrBefore.getTime() ? latest : undefined;
  }
}

/**
 * Checks `timezone` against the runtime's zone database and the schema's IANA rule;
 * throws a ValidationError naming `timezone`.
 */
export function validateTimezone(timezone: string): string {
  parseOrThrow(TimeZone, timezone, { field: () => 'timezone' });
  if (!isKnownTimeZone(timezone)) throw new ValidationError(`timezone: unknown time zone "${timezone}"`, 'timezone');
  return timezone;
}

/**
 * Parses and checks a 5-field cron expression in a time zone. Refuses, naming `cron`:
 * the wrong number of fields, values out of range, illegal characters, and expressions
 * that never fire (`0 0 30 2 *`); naming `timezone`: unknown zones.
 */
export function parseCron(expression: string, timezone: string): CronSchedule {
  validateTimezone(timezone);
  const normalized = expression.trim().split(/\s+/).join(' ');
  let schedule: CronSchedule;
  try {
    // The schema's rule (the one the OpenAPI document states) decides; croner's message,
    // when it has one, says more precisely which field is wrong (`dayOfWeek: 8`).
    parseOrThrow(CronExpression, expression, { field: () => 'cron' });
    schedule = CronSchedule.unchecked(normalized, timezone);
  } catch (e) {
    let specific: string | undefined;
    // A wrong field count is said best by the schema (`exactly 5 fields ... got 6`).
    if (normalized.split(' ').length === 5) {
      try {
        CronSchedule.unchecked(normalized, timezone);
      } catch (croner) {
        specific = cronMessage(croner);
      }
    }
    if (specific !== undefined) throw new ValidationError(`cron: ${specific}`, 'cron');
    throw e;
  }
  // An expression can be well formed and still name no real day (30 February): refuse
  // it now rather than store a schedule that silently never runs. Eight years covers
  // every leap-day pattern (`0 0 29 2 1` and the like).
  const horizon = new Date(Date.UTC(2000, 0, 1));
  const first = schedule.next(horizon);
  if (first === undefined || first.getTime() - horizon.getTime() > 8 * 366 * 86_400_000) {
    throw new ValidationError(`cron: "${normalized}" never fires`, 'cron');
  }
  return schedule;
}

/** croner's messages start with its class name; keep what a user can act on. */
function cronMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^CronPattern:\s*/, '');
}
