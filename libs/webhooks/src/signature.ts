import { createHmac } from 'node:crypto';

/** Headers of a Standard Webhooks delivery. */
export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs one delivery attempt as Standard Webhooks does: HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` (the exact bytes sent), base64, prefixed `v1,`. With several
 * secrets (a rotation under way) every one signs, space-separated, and a receiver holding
 * either verifies. The timestamp is the attempt's, in whole seconds.
 */
export function signWebhook(secrets: Buffer[], webhookId: string, timestampSeconds: number, body: string): WebhookHeaders {
  const signed = `${webhookId}.${timestampSeconds}.${body}`;
  const signatures = secrets.map((secret) => `v1,${createHmac('sha256', secret).update(signed).digest('base64')}`);
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatures.join(' '),
  };
}
