import { z } from 'zod';
import { ContentHash, TaskName } from './names';
import { documented } from './documented';
import { JsonValue } from './notebook';

/**
 * Cron schedules on a promoted workflow version. The shapes here are checked where they
 * enter (request bodies, rows read back from the state store); the server's scheduler
 * (`server/src/scheduler/cron.ts`) then parses the cron expression for real, so values
 * that look right but never fire (`0 0 30 2 *`) are refused there, still naming `cron`.
 */

/**
 * A schedule id. It ends up in run ids (`s-<id>-<fire time>`), URLs and log lines, so it
 * follows the same rule as task names: lowercase, letter or digit first, no dots, no slashes.
 */
export const ScheduleId = z
  .string()
  .min(1)
  .max(63, 'at most 63 characters (it becomes part of run ids)')
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must match [a-z0-9][a-z0-9_-]* (lowercase letters, digits, _ and -)');
export type ScheduleId = z.infer<typeof ScheduleId>;

/** What a cron field may be made of at all: digits, names (JAN, MON), `*`, `,`, `-`, `/`, and L W #. */
const CRON_CHARACTERS = /^[0-9A-Za-z*,/#-]+$/;

/** A cron name matched in any case (`MON`, `mon`, `Mon`). */
const anyCase = (names: string[]): string => names.map((n) => [...n].map((c) => `[${c.toUpperCase()}${c.toLowerCase()}]`).join('')).join('|');

/**
 * One field of a cron expression: a comma list of `*`, values and ranges, where `*` and
 * ranges may take a `/step` (1 up to the field's largest value; croner refuses a step after a
 * single value), or one of the field's special forms (`L`, `15W`, `5L`, `1#2`) on its own.
 */
function cronField(value: string, step: string, special: string[] = []): string {
  const item = `(?:\\*(?:/(?:${step}))?|(?:${value})(?:-(?:${value})(?:/(?:${step}))?)?)`;
  return `(?:${[`${item}(?:,${item})*`, ...special].join('|')})`;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const DAY_OF_MONTH = '0?[1-9]|[12][0-9]|3[01]';

/**
 * The shape of a 5-field cron expression as a regular expression (also the `pattern` in the
 * OpenAPI document): minute 0-59, hour 0-23, day of month 1-31 (and `L`, `LW`, `15W`),
 * month 1-12 or JAN-DEC, day of week 0-7 or SUN-SAT (and `5L`, `1#2`). Whether such an
 * expression ever fires is the scheduler's question (a 422 when it does not).
 */
export const CRON_PATTERN = new RegExp(
  `^[ \\t]*${[
    cronField('[0-5]?[0-9]', '[1-9]|[1-5][0-9]'),
    cronField('[01]?[0-9]|2[0-3]', '[1-9]|1[0-9]|2[0-3]'),
    cronField(DAY_OF_MONTH, '[1-9]|[12][0-9]|3[01]', ['[Ll][Ww]?', `(?:${DAY_OF_MONTH})[Ww]`]),
    cronField(`0?[1-9]|1[0-2]|${anyCase(MONTHS)}`, '[1-9]|1[0-2]'),
    cronField(`[0-7]|${anyCase(WEEKDAYS)}`, '[1-7]', ['[0-7][Ll]', '[0-7]#[1-5]'])
  ].join('[ \\t]+')}[ \\t]*$`
);

/**
 * A classic 5-field cron expression: minute hour day-of-month month day-of-week. Seconds
 * fields and `@daily`-style nicknames are refused so an expression means the same thing
 * here as in crontab(5); `?` is refused because some parsers read it as "the current time".
 */
export const CronExpression = documented(
  z
    .string()
    .max(256, 'at most 256 characters')
    .superRefine((value, ctx) => {
      const fields = value.trim().split(/\s+/).filter((f) => f !== '');
      if (fields.length !== 5) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `must have exactly 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`
        });
        return;
      }
      const bad = fields.find((f) => !CRON_CHARACTERS.test(f));
      if (bad !== undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `field "${bad}" has characters cron does not allow` });
      } else if (!CRON_PATTERN.test(value)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${value}" is not minute (0-59) hour (0-23) day-of-month (1-31) month (1-12, JAN-DEC) day-of-week (0-7, SUN-SAT)` });
      }
    }),
  { pattern: CRON_PATTERN.source }
);
export type CronExpression = z.infer<typeof CronExpression>;

/**
 * True when the runtime's time zone database (ICU, through Intl) knows `name`. Both the
 * schema and the scheduler ask the same database the fire times are computed with, so a
 * zone that validates is a zone the scheduler can compute in.
 */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * An IANA time zone name (`Europe/Berlin`, `America/New_York`, `UTC`). Fixed offsets such as
 * `+01:00` are refused: they have no DST rules, which is the point of giving a zone.
 */
export const TimeZone = documented(
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, 'must be an IANA time zone name such as Europe/Berlin')
    .refine(isKnownTimeZone, (name) => ({ message: `unknown time zone "${name}" (use an IANA name such as Europe/Berlin)` })),
  knownTimeZones()
);

/** The zone names the runtime lists, as the document's `enum` (aliases such as `US/Eastern` are accepted too). */
function knownTimeZones(): Record<string, unknown> {
  // ES2022's lib has no Intl.supportedValuesOf (ES2022 runtimes do): typed here.
  const intl = Intl as { supportedValuesOf?: (key: 'timeZone') => string[] };
  const list = intl.supportedValuesOf?.('timeZone') ?? [];
  // The runtime lists only zones it knows: checking each again (a DateTimeFormat per zone)
  // cost ~200 ms at every import of this package, in every task process and CLI command.
  return list.length > 0 ? { enum: [...new Set(['UTC', ...list])] } : {};
}
export type TimeZone = z.infer<typeof TimeZone>;

/**
 * What a fire does when a run of the same schedule is still active, as in Kubernetes
 * CronJobs: `Allow` starts another, `Forbid` skips this fire, `Replace` cancels the active
 * run(s) and starts the new one.
 */
export const ConcurrencyPolicy = z.enum(['Allow', 'Forbid', 'Replace']);
export type ConcurrencyPolicy = z.infer<typeof ConcurrencyPolicy>;

/**
 * Fires that passed while the server was down (or asleep past the grace period): `skip`
 * drops them all, `runOnce` starts exactly one run, for the latest missed fire.
 */
export const MissedRunPolicy = z.enum(['skip', 'runOnce']);
export type MissedRunPolicy = z.infer<typeof MissedRunPolicy>;

/** An http(s) URL notified when a scheduled run finishes. Other schemes are refused (no file:, no javascript:). */
export const WebhookUrl = z
  .string()
  .max(2048)
  .url('must be an absolute URL')
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL');

/** An ISO 8601 instant as the server writes them (`Date.prototype.toISOString`). */
const IsoInstant = z.string().datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

/**
 * What a fire does with cached task results: `reuse` (the default) serves a task from the
 * cache when its code, inputs and parameters did not change; `recompute` runs every task
 * (fresh results are cached again), for schedules whose inputs change outside the notebook.
 */
export const CachePolicy = z.enum(['reuse', 'recompute']);
export type CachePolicy = z.infer<typeof CachePolicy>;

/** A schedule's display name (`nightly report`); free text, one line. */
export const ScheduleName = z.string().trim().min(1, 'must not be empty').max(120, 'at most 120 characters').regex(/^[^\n\r]*$/, 'must be one line');

/** Parameters a scheduled run starts with; checked against the version's declared kinds when it starts. */
export const ScheduleParams = z.record(JsonValue);

/** A stored schedule: which version runs, when, with what, and how overlaps and misses are handled. */
export const Schedule = z.object({
  id: ScheduleId,
  workflow: TaskName,
  /** The frozen version (content hash) each fire runs; update it to move the schedule to a new version. */
  version: ContentHash,
  cron: CronExpression,
  timezone: TimeZone,
  params: ScheduleParams,
  concurrencyPolicy: ConcurrencyPolicy,
  missedRunPolicy: MissedRunPolicy,
  paused: z.boolean(),
  webhookUrl: WebhookUrl.optional(),
  /** A name people know it by; the id stays what run ids embed. */
  name: ScheduleName.optional(),
  /** Absent: `reuse`. */
  cachePolicy: CachePolicy.optional(),
  createdAt: IsoInstant,
  updatedAt: IsoInstant
});
export type Schedule = z.infer<typeof Schedule>;

/**
 * POST body creating a schedule. Unknown fields are refused (a typo such as `timeZone` must
 * not silently fall back to UTC). Defaults: UTC, no params, `Forbid` (a slow run never
 * piles up), `skip` (a server down for a week does not start a week of runs), not paused.
 */
export const ScheduleCreate = z
  .object({
    /** Optional; the server derives one from the workflow name when absent. */
    id: ScheduleId.optional(),
    workflow: TaskName,
    version: ContentHash,
    cron: CronExpression,
    timezone: TimeZone.default('UTC'),
    params: ScheduleParams.default({}),
    concurrencyPolicy: ConcurrencyPolicy.default('Forbid'),
    missedRunPolicy: MissedRunPolicy.default('skip'),
    paused: z.boolean().default(false),
    webhookUrl: WebhookUrl.optional(),
    name: ScheduleName.optional(),
    cachePolicy: CachePolicy.optional()
  })
  .strict();
/** A parsed create body, defaults filled in. */
export type ScheduleCreate = z.infer<typeof ScheduleCreate>;
/** A create body as a client writes it (defaults optional). */
export type ScheduleCreateInput = z.input<typeof ScheduleCreate>;

/**
 * PATCH body: every field optional, unknown fields refused. The workflow and id are fixed
 * for a schedule's life (its run ids embed the id); `webhookUrl: null` removes the webhook.
 */
export const ScheduleUpdate = z
  .object({
    version: ContentHash.optional(),
    cron: CronExpression.optional(),
    timezone: TimeZone.optional(),
    params: ScheduleParams.optional(),
    concurrencyPolicy: ConcurrencyPolicy.optional(),
    missedRunPolicy: MissedRunPolicy.optional(),
    paused: z.boolean().optional(),
    webhookUrl: WebhookUrl.nullable().optional(),
    /** `null` removes the name. */
    name: ScheduleName.nullable().optional(),
    cachePolicy: CachePolicy.optional()
  })
  .strict();
export type ScheduleUpdate = z.infer<typeof ScheduleUpdate>;

/**
 * A schedule as the API shows it: the stored fields, the next fire instants (ISO, UTC; empty
 * while paused) and a sentence a person can check the expression against.
 */
export const ScheduleView = Schedule.extend({
  nextFires: z.array(IsoInstant),
  /** e.g. "At 02:30, every day (Europe/Berlin)". */
  description: z.string(),
  /** The latest fire the scheduler handled (launched or skipped by policy), if any. */
  lastFiredAt: IsoInstant.optional(),
  /** The schedule's project (in lists; servers before projects answer without it). */
  project: z.string().optional()
});
export type ScheduleView = z.infer<typeof ScheduleView>;

/** GET list of schedules. */
export const ListSchedulesResponse = z.object({ schedules: z.array(ScheduleView) });
export type ListSchedulesResponse = z.infer<typeof ListSchedulesResponse>;

/** Path parameters of routes addressing one schedule. */
export const SchedulePathParams = z.object({ id: ScheduleId }).strict();
export type SchedulePathParams = z.infer<typeof SchedulePathParams>;

/** DELETE answer: the schedule is gone (runs it started are kept). */
export const ScheduleDeleted = z.object({ id: ScheduleId, deleted: z.literal(true) });
export type ScheduleDeleted = z.infer<typeof ScheduleDeleted>;

/**
 * POST /api/v1/schedules/preview: what a cron expression means before anything is saved
 * (the promote dialog shows it as the user types). Errors are 400 naming `body.cron` or
 * `body.timezone`.
 */
export const CronPreviewRequest = z.object({ cron: CronExpression, timezone: TimeZone.default('UTC'), count: z.number().int().min(1).max(20).default(5) }).strict();
export type CronPreviewRequest = z.infer<typeof CronPreviewRequest>;

export const CronPreviewResponse = z.object({ description: z.string(), nextFires: z.array(IsoInstant) });
export type CronPreviewResponse = z.infer<typeof CronPreviewResponse>;
