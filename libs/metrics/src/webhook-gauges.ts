import { Gauge, type Registry } from 'prom-client';
import { COUNTED_STATES, type QueueCounts } from '@report-jobs/queue';

/**
 * Deliveries in the webhook queue by state, read from Redis at scrape time in one round
 * trip of O(1) commands (`delayed`: waiting for a retry). While Redis cannot be read the
 * gauge has no samples (report_jobs_redis_up says why).
 */
export function registerWebhookQueueGauge(registry: Registry, read: () => Promise<QueueCounts>): void {
  new Gauge({
    name: 'report_jobs_webhook_queue_jobs',
    help: 'Webhook deliveries in their queue by state (the same for every worker: aggregate with max).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await read().catch(() => undefined);
      this.reset();
      if (counts) for (const state of COUNTED_STATES) this.set({ state }, counts.counts[state]);
    },
  });
}
