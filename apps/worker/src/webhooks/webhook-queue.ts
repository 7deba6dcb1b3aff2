import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue, type JobsOptions } from 'bullmq';
import { Environment, webhookRetryDelays } from '@report-jobs/config';
import { WEBHOOK_DELIVERY_JOB_NAME, WEBHOOKS_QUEUE, type WebhookDeliveryData } from '@report-jobs/contract';
import { JobSnapshotReader, QueueCountsReader, WebhookOutbox, type QueueCounts } from '@report-jobs/queue';
import { queueTelemetry } from '@report-jobs/tracing';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { WorkerQueue } from '../queue/worker-queue';

/** The backoff type of deliveries: WebhookWorker's backoff strategy computes their delays. */
export const WEBHOOK_BACKOFF_TYPE = 'webhook-schedule';

/**
 * The worker's handles on webhooks: the delivery queue (a BullMQ queue of its own, on the
 * same connection and under the same prefix conventions as the reports queue), the outbox
 * and delivery state kept with the report jobs, and the reader of report jobs.
 */
@Injectable()
export class WebhookQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookQueue.name);
  readonly queue: Queue<WebhookDeliveryData>;
  readonly outbox: WebhookOutbox;
  readonly reports: JobSnapshotReader;
  private readonly counts: QueueCountsReader;
  /** One attempt per delay of the schedule, and the first. */
  readonly attempts: number;

  constructor(
    private readonly workerQueue: WorkerQueue,
    env: Environment,
    metrics: WorkerMetrics,
  ) {
    const { redis } = workerQueue;
    const { queue } = workerQueue.home;
    this.queue = new Queue<WebhookDeliveryData>(WEBHOOKS_QUEUE, { connection: redis, prefix: env.QUEUE_PREFIX, telemetry: queueTelemetry() });
    this.queue.on('error', (error) => this.logger.warn(`Queue: ${error.message}`));
    this.outbox = new WebhookOutbox(redis, queue);
    this.reports = new JobSnapshotReader(redis, queue);
    this.counts = new QueueCountsReader(redis, this.queue);
    this.attempts = webhookRetryDelays(env).length + 1;
    metrics.observeWebhookQueue(() => this.queueCounts());
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
