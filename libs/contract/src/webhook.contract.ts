/**
 * The webhook contract: what the API stores for a job with a callback, what the worker's
 * delivery queue carries, and the delivery state the status payload shows.
 *
 * NEVER change the string values of WEBHOOKS_QUEUE or WEBHOOK_DELIVERY_JOB_NAME:
 * deliveries waiting in Redis (some for hours, between retries) carry them, and a renamed
 * queue or job strands those deliveries.
 */
export const WEBHOOKS_QUEUE = 'report-webhooks';
export const WEBHOOK_DELIVERY_JOB_NAME = 'delivery';

/** Longest callback_url accepted. */
export const MAX_CALLBACK_URL_LENGTH = 2048;

/** The event a delivery announces: how the job ended. */
export type WebhookEventType = 'report.completed' | 'report.failed' | 'report.terminated';

/**
 * Where a job's callback stands:
 * - `pending`: the job has not ended yet, or its delivery is queued or waiting for a retry;
 * - `delivered`: the receiver answered 2xx;
 * - `failed`: every attempt failed, or the callback was refused at delivery (its address);
 * - `disabled`: the receiver answered 410 Gone, asking for no more deliveries.
 */
export type CallbackDeliveryState = 'pending' | 'delivered' | 'failed' | 'disabled';

/** What is stored on the report job about its delivery (times in epoch ms). */
export interface WebhookDeliveryRecord {
  state: CallbackDeliveryState;
  /** Attempts made so far. */
  attempts: number;
  /** Why the last attempt failed. */
  lastError?: string;
  deliveredAt?: number;
  /** When the next attempt is due, while one is. */
  nextAttemptAt?: number;
}

/** The data of one delivery job: everything an attempt needs, the exact body included. */
export interface WebhookDeliveryData {
  instanceId: string;
  url: string;
  /** The principal that owns the job: its secret signs the delivery. */
  principal: string;
  /** The `webhook-id` header: one per event, the same on every attempt. */
  webhookId: string;
  /** The JSON body, as sent and signed (stable bytes across attempts). */
  body: string;
}
