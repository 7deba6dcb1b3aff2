import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue, type JobsOptions } from 'bullmq';
import { Environment, webhookRetryDelays } from '@report-jobs/config';
import { WEBHOOK_DELIVERY_JOB_NAME, WEBHOOKS_QUEUE, type WebhookDeliveryData } from '@report-jobs/contract';
import { QueueCountsReader, type JobLookup, type QueueCounts, type WebhookOutbox } from '@report-jobs/queue';
import { queueTelemetry } from '@report-jobs/tracing';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { WorkerQueue } from '../queue/worker-queue';

/** The backoff type of deliveries: WebhookWorker's backoff strategy computes their delays. */
export const WEBHOOK_BACKOFF_TYPE = 'webhook-schedule';

/**
 * The worker's handles on webhooks: the delivery queue (a BullMQ queue of its own, on the
 * same connection as the report shards), the outboxes and delivery state kept with the
 * report jobs (each shard's own: see webhook-outbox.ts), and the reads of report jobs.
 *
 * The delivery queue is one queue whatever QUEUE_SHARDS says, under QUEUE_PREFIX: on a
 * Redis Cluster its hash tag keeps all of its keys in one slot, the home shard's, so each
 * of BullMQ's scripts on it runs on one master. Deliveries are few and short beside report
 * jobs; what grows with the jobs (outbox entries, delivery state) lives on their shards.
 */
@Injectable()
export class WebhookQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookQueue.name);
  readonly queue: Queue<WebhookDeliveryData>;
  private readonly counts: QueueCountsReader;
  /** One attempt per delay of the schedule, and the first. */
  readonly attempts: number;

  constructor(
    private readonly workerQueue: WorkerQueue,
    env: Environment,
    metrics: WorkerMetrics,
  ) {
    const { redis } = workerQueue;
    this.queue = new Queue<WebhookDeliveryData>(WEBHOOKS_QUEUE, { connection: redis, prefix: env.QUEUE_PREFIX, telemetry: queueTelemetry() });
    this.queue.on('error', (error) => this.logger.warn(`Queue: ${error.message}`));
    this.counts = new QueueCountsReader(redis, this.queue);
    this.attempts = webhookRetryDelays(env).length + 1;
    metrics.observeWebhookQueue(() => this.queueCounts());
  }

  /** Every shard's outbox, in shard order. */
  get outboxes(): WebhookOutbox[] {
    return this.workerQueue.handles.map((handle) => handle.outbox);
  }

  /** The outbox of the shard that holds the report job with this instance id. */
  outboxOf(instanceId: string): WebhookOutbox {
    return this.workerQueue.handleOf(instanceId).outbox;
  }

  /** Reads a report job, on its shard, in one round trip. */
  lookup(instanceId: string): Promise<JobLookup> {
    return this.workerQueue.handleOf(instanceId).snapshots.lookup(instanceId);
  }

  get redisReady(): boolean {
    return this.workerQueue.redis.status === 'ready';
  }

  /**
   * Queues the delivery of one event. Its id is derived from the event, and BullMQ ignores
   * an add whose id exists: relaying an event again adds nothing while its delivery is queued.
   */
  async add(deliveryId: string, data: WebhookDeliveryData): Promise<void> {
    const options: JobsOptions = {
      jobId: deliveryId,
      attempts: this.attempts,
      backoff: { type: WEBHOOK_BACKOFF_TYPE },
      // The delivery's state lives on its report job (written by the attempt before it ends):
      // a finished delivery leaves nothing behind, so the delivery queue holds no key per job.
      removeOnComplete: true,
      removeOnFail: true,
    };
    await this.queue.add(WEBHOOK_DELIVERY_JOB_NAME, data, options);
  }

  /** Deliveries by state, for the metrics; refused at once while disconnected. */
  queueCounts(): Promise<QueueCounts> {
    if (!this.redisReady) return Promise.reject(new Error('Redis is not connected'));
    return this.counts.read();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close().catch(() => undefined);
  }
}
