import type { TaskLog } from '../engine/engine';

/** Output kept per running attempt; older output is cut (the store keeps the full log once the attempt ends). */
const MAX_LIVE_BYTES = 1024 * 1024;

/**
 * Output of attempts still running, so logs are readable while a task runs. The
 * executor files each attempt's full log in the store when the attempt ends; until then
 * this is the only copy.
 */
export class LiveLogs {
  private readonly attempts = new Map<string, string>();

  /** Feed this from Engine.onLog. */
  readonly listener = (l: TaskLog): void => {
    const key = this.key(l.runId, l.task, l.attempt);
    const text = (this.attempts.get(key) ?? '') + l.text;
    this.attempts.set(key, text.length > MAX_LIVE_BYTES ? `…${text.slice(text.length - MAX_LIVE_BYTES)}` : text);
  };

  get(runId: string, task: string, attempt: number): string | undefined {
    return this.attempts.get(this.key(runId, task, attempt));
  }

  /** Forgets a finished run's buffers (its logs are in the store by then). */
  dropRun(runId: string): void {
    for (const key of [...this.attempts.keys()]) if (key.startsWith(`${runId}/`)) this.attempts.delete(key);
  }

  private key(runId: string, task: string, attempt: number): string {
    return `${runId}/${task}/${attempt}`;
  }
}
