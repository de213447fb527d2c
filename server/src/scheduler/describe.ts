import { toString as cronToString } from 'cronstrue';

/**
 * A sentence for a cron expression ("At 02:30, every day"), so a person can check what
 * they typed before the first fire proves it wrong. 24-hour times, because the zone is
 * named next to them and "AM" adds nothing but ambiguity around DST changes.
 * Expects an expression {@link parseCron} accepted; falls back to the raw expression if
 * cronstrue cannot describe it rather than failing a listing over a label.
 */
export function describeCron(expression: string, timezone?: string): string {
  let text: string;
  try {
    text = cronToString(expression, { use24HourTimeFormat: true, verbose: true, throwExceptionOnParseError: true });
  } catch {
    text = `cron "${expression}"`;
  }
  return timezone === undefined ? text : `${text} (${timezone})`;
}
