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
  /** Attempts whose output grew since takeChanged last ran. */
  private readonly changed = new Map<string, { runId: string; task: string; attempt: number; element?: number }>();

  /** Feed this from Engine.onLog. */
  readonly listener = (l: TaskLog): void => {
    const key = this.key(l.runId, l.task, l.attempt, l.element);
    const text = (this.attempts.get(key) ?? '') + l.text;
    this.attempts.set(key, text.length > MAX_LIVE_BYTES ? `…${text.slice(text.length - MAX_LIVE_BYTES)}` : text);
    this.changed.set(key, { runId: l.runId, task: l.task, attempt: l.attempt, ...(l.element !== undefined ? { element: l.element } : {}) });
  };

  /** The attempts whose output grew since the last call, with their output so far. */
  takeChanged(): { runId: string; task: string; attempt: number; element?: number; text: string }[] {
    const out = [];
    for (const [key, at] of this.changed) {
      const text = this.attempts.get(key);
      if (text !== undefined) out.push({ ...at, text });
    }
    this.changed.clear();
    return out;
  }

  get(runId: string, task: string, attempt: number, element?: number): string | undefined {
    return this.attempts.get(this.key(runId, task, attempt, element));
  }

  /** Forgets a finished run's buffers (its logs are in the store by then). */
  dropRun(runId: string): void {
    for (const key of [...this.attempts.keys()]) if (key.startsWith(`${runId}/`)) this.attempts.delete(key);
    for (const key of [...this.changed.keys()]) if (key.startsWith(`${runId}/`)) this.changed.delete(key);
  }

  private key(runId: string, task: string, attempt: number, element?: number): string {
    return `${runId}/${sharedLogTask(task, element)}/${attempt}`;
  }
}

/**
 * The task column under which a live log is shared between replicas (attempt_logs): a foreach
 * element's output is kept apart from the task's as `<task>#<element>` (`#` is outside the
 * task-name alphabet, so it never names a task).
 */
export function sharedLogTask(task: string, element?: number): string {
  return element === undefined ? task : `${task}#${element}`;
}
