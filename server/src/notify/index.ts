/**
 * Run notifications: webhooks told when a run succeeds or fails, with retries and
 * backoff, bounded attempts, and every delivery recorded.
 */
export { RunNotifier } from './notifier';
export type { NotifierOptions, NotifierStore } from './notifier';
export { postJson, redactUrl } from './webhook';
export type { AttemptResult, PostOptions } from './webhook';
export { WebhookGuard } from './webhook-guard';
