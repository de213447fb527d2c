/** Lines of output kept in a failure message when an attempt ends without a result. */
const TAIL_LINES = 20;

/** The end of an attempt's log, formatted to follow a failure message (empty when there was no output). */
export function logTail(log: string): string {
  const lines = log.trimEnd().split('\n').slice(-TAIL_LINES);
  return lines.length > 0 && lines[0] !== '' ? `\n--- last output ---\n${lines.join('\n')}` : '';
}
