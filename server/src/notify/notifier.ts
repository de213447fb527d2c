import { RunEvent, RunNotification, WebhookDelivery } from '@cellgraph/schema';
import { parseScheduledRunId } from '../scheduler/run-ids';
import type { NotificationStore } from '../state/notification-store';
import type { StateStore } from '../state/state-store';
import { retry, sleep } from '../retry';
import { type AttemptResult, postJson, redactUrl } from './webhook';
import { WebhookGuard } from './webhook-guard';

/** What the notifier reads and writes: run records, the URLs each run notifies, deliveries. */
export type NotifierStore = NotificationStore & Pick<StateStore, 'getRun' | 'getTaskRuns'>;

/** Construction options; only `store` is required. */
export interface NotifierOptions {
  store: NotifierStore;
  /** Attempts per delivery, the first included. Default 4. */
  attempts?: number;
  /** How long one attempt may take, connection to status line. Default 10 s. */
  timeoutMs?: number;
  /** Cap on the wait before the second attempt (full jitter); doubles after each. Default 1 s. */
  backoffMs?: number;
  /** Longest wait between attempts. Default 60 s. */
  maxBackoffMs?: number;
  /** Sent as User-Agent. */
  userAgent?: string;
  /** Where failures and give-ups are reported (the server's stderr). */
  log?: (line: string) => void;
  /** Destinations refused (metadata, link-local) at submit and at each delivery. Default: the guard's defaults, nothing extra allowed. */
  guard?: WebhookGuard;
}

/** Run statuses that notify: a run's outcome, not an operator's cancel. */
const NOTIFIED = new Set(['succeeded', 'failed']);

/**
 * Tells webhooks that runs finished. Subscribed to the engine's events, it starts a
 * delivery per URL when a run succeeds or fails and returns at once: the run is already
 * recorded as finished, and nothing it or the server does waits on a receiver. Each
 * delivery is recorded with its attempts; failed attempts are retried with exponential
 * backoff, each bounded by a timeout. On shutdown, deliveries still in progress are cut
 * short and stay `pending`; the next server process sends them again ({@link resumePending}),
 * so receivers must tolerate a repeat (the `X-Cellgraph-Delivery` header identifies one).
 */
export class RunNotifier {
  private readonly store: NotifierStore;
  private readonly attempts: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly userAgent: string;
  private readonly log: (line: string) => void;
  private readonly inflight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  /** Checks webhook URLs where requests submit them; deliveries go through it too. */
  readonly guard: WebhookGuard;

  constructor(options: NotifierOptions) {
    this.store = options.store;
    this.attempts = Math.max(1, options.attempts ?? 4);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.backoffMs = options.backoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.userAgent = options.userAgent ?? 'cellgraph';
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.guard = options.guard ?? new WebhookGuard();
  }

  /** For `engine.onEvent`: starts notifying when a run's final event arrives. Never throws, never waits. */
  readonly listener = (event: RunEvent): void => {
    if (event.kind !== 'run' || !NOTIFIED.has(event.status) || this.stopping.signal.aborted) return;
    this.track(this.notifyRun(event.runId));
  };

  /** Sends deliveries a previous process left pending (it stopped mid-retry), with the attempts they had left. */
  async resumePending(): Promise<number> {
    const pending = await this.store.listPendingDeliveries();
    for (const p of pending) this.track(this.deliver(p.delivery, p.payload));
    return pending.length;
  }

  /** Resolves when every delivery started so far has ended (delivered, failed or cut short). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /**
   * Gives deliveries in progress up to `graceMs` to end, then aborts the rest (they stay
   * pending for the next process) and waits for them to let go of the store.
   */
  async stop(graceMs: number): Promise<void> {
    const deadline = sleep(graceMs, undefined, true);
    await Promise.race([this.idle(), deadline]);
    this.stopping.abort();
    await this.idle();
  }

  /** Records and starts one delivery per URL the run notifies. */
  private async notifyRun(runId: string): Promise<void> {
    const hooks = await this.store.getRunWebhooks(runId);
    if (hooks.length === 0) return;
    const payload = await this.payload(runId);
    for (const hook of hooks) {
      const delivery = await this.store.createDelivery({ runId, url: hook.url, source: hook.source, payload });
      this.track(this.deliver(delivery, payload));
    }
  }

  private async payload(runId: string): Promise<RunNotification> {
    const run = await this.store.getRun(runId);
    const tasks = await this.store.getTaskRuns(runId);
    const schedule = parseScheduledRunId(runId);
    return RunNotification.parse({
      event: 'run.finished',
      runId,
      workflow: run.workflow,
      version: run.version,
      status: run.status,
      ...(schedule !== undefined ? { scheduleId: schedule.scheduleId } : {}),
      params: run.params,
      tasks: tasks.map((t) => ({ name: t.task, status: t.status, attempts: t.attempts, cached: t.cached })),
      startedAt: run.startedAt,
      finishedAt: run.finishedAt ?? new Date().toISOString(),
      error: run.error
    });
  }

  /** Attempts a delivery until it is delivered, refused, out of attempts, or the notifier stops. */
  private async deliver(delivery: WebhookDelivery, payload: RunNotification): Promise<void> {
    const body = JSON.stringify(payload);
    const where = `webhook ${redactUrl(delivery.url)} for run ${delivery.runId}`;
    const headers = {
      'user-agent': this.userAgent,
      'x-cellgraph-event': payload.event,
      'x-cellgraph-delivery': String(delivery.id)
    };
    if (delivery.attempts >= this.attempts) return;
    try {
      await retry(
        async (attempt) => {
          const result = await postJson(delivery.url, body, { timeoutMs: this.timeoutMs, headers, signal: this.stopping.signal, guard: this.guard });
          // Cut short by shutdown: not an attempt that counts; the next process sends it again.
          if (!result.ok && result.aborted === true) return;
          if (result.ok) {
            await this.store.updateDelivery(delivery.id, { status: 'delivered', attempts: attempt, statusCode: result.statusCode });
            return;
          }
          const last = attempt >= this.attempts || !result.retryable;
          await this.store.updateDelivery(delivery.id, {
            status: last ? 'failed' : 'pending',
            attempts: attempt,
            ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
            error: result.error
          });
          if (last) {
            const why = result.retryable ? `after ${attempt} attempt${attempt === 1 ? '' : 's'}` : '(not retried: the receiver refused it)';
            this.log(`cellgraph server: ${where} failed ${why}: ${result.error}`);
            return;
          }
          this.log(`cellgraph server: ${where}: attempt ${attempt} of ${this.attempts} failed (${result.error}); retrying`);
          throw new FailedAttempt(result);
        },
        {
          attempts: this.attempts,
          firstAttempt: delivery.attempts + 1,
          baseMs: this.backoffMs,
          maxMs: this.maxBackoffMs,
          retryable: (e) => e instanceof FailedAttempt,
          signal: this.stopping.signal
        }
      );
    } catch (e) {
      // A wait cut short by shutdown leaves the delivery pending, as recorded.
      if (e instanceof FailedAttempt || this.stopping.signal.aborted) return;
      throw e;
    }
  }

  /** Keeps a delivery's promise until it settles; a store failure is logged, never thrown into the engine. */
  private track(work: Promise<void>): void {
    const settled = work.catch((e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      this.log(`cellgraph server: notifying a webhook failed: ${err.message}`);
    });
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
  }
}

/** A recorded attempt that failed in a way worth retrying. */
class FailedAttempt extends Error {
  constructor(readonly result: AttemptResult) {
    super(result.ok ? 'delivered' : result.error);
  }
}
