import type { DeliveryStatus, RunNotification, WebhookDelivery, WebhookSource } from '@cellgraph/schema';

/** A URL to notify when a run ends, and why it is notified. */
export interface RunWebhook {
  url: string;
  source: WebhookSource;
}

/** What changes on a delivery as its attempts go. */
export interface DeliveryPatch {
  status?: DeliveryStatus;
  attempts?: number;
  statusCode?: number;
  error?: string;
}

/** A delivery left pending, with the payload to send again. */
export interface PendingDelivery {
  delivery: WebhookDelivery;
  payload: RunNotification;
}

/**
 * Run notifications, durable beside the run state: which URLs a run notifies (recorded
 * when the run starts, so a run resumed after a restart still notifies) and every
 * delivery with its attempts, so operators and tests can see what was sent.
 */
export interface NotificationStore {
  /** Adds URLs to notify for a run; a URL already recorded for it is kept once. */
  addRunWebhooks(runId: string, hooks: RunWebhook[]): Promise<void>;
  getRunWebhooks(runId: string): Promise<RunWebhook[]>;
  /** Forgets a run's URLs (its start failed before the run was recorded). */
  deleteRunWebhooks(runId: string): Promise<void>;
  /** Records a delivery about to be attempted; returns it with its id. */
  createDelivery(d: { runId: string; url: string; source: WebhookSource; payload: RunNotification }): Promise<WebhookDelivery>;
  updateDelivery(id: number, patch: DeliveryPatch): Promise<void>;
  /** A run's deliveries, oldest first. */
  listDeliveries(runId: string): Promise<WebhookDelivery[]>;
  /** Deliveries a previous process left pending (it stopped mid-retry). */
  listPendingDeliveries(): Promise<PendingDelivery[]>;
}
