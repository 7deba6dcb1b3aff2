import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Worker } from 'bullmq';
import { Environment } from '@report-jobs/config';
import { WEBHOOKS_QUEUE, type WebhookDeliveryData } from '@report-jobs/contract';
import { createRedisClient, type RedisClient } from '@report-jobs/queue';
import { queueTelemetry } from '@report-jobs/tracing';
import { nextAttemptDelayMs } from '@report-jobs/webhooks';
import { WorkerQueue } from '../queue/worker-queue';
import { RetryDelivery, WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookQueue } from './webhook-queue';

/**
 * The BullMQ worker of the delivery queue, beside the reports worker in every worker
 * process, with its own small concurrency (WEBHOOK_CONCURRENCY) so that slow receivers never
 * hold up report jobs. Deliveries live in Redis: a worker that stops or dies leaves them to
 * the others (or to itself once restarted), retries included.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookWorker.name);
  private readonly connection: RedisClient;
  readonly worker: Worker<WebhookDeliveryData>;

  constructor(
    private readonly processor: WebhookDeliveryProcessor,
    private readonly env: Environment,
    private readonly workerQueue: WorkerQueue,
    webhooks: WebhookQueue,
  ) {
    this.connection = createRedisClient(env, 'worker', { name: 'worker-webhooks' });
    this.connection.on('error', (error: Error) => this.logger.warn(`Redis connection: ${error.message}`));
    this.worker = new Worker<WebhookDeliveryData>(WEBHOOKS_QUEUE, (job) => this.processor.deliver(job), {
      connection: this.connection,
      // The delivery queue's prefix (see WebhookQueue): on a cluster, the home shard's slot.
      prefix: env.QUEUE_PREFIX,
      autorun: false,
      concurrency: env.WEBHOOK_CONCURRENCY,
      lockDuration: env.WORKER_LOCK_DURATION_MS,
      stalledInterval: Math.round(env.WORKER_LOCK_DURATION_MS / 2),
      // An attempt lost with its worker runs again; a delivery whose worker keeps dying stops with its attempts.
      maxStalledCount: webhooks.attempts,
      settings: {
        // The attempt that failed computed its delay (schedule, jitter, Retry-After); any other error takes the schedule's.
        backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) =>
          error instanceof RetryDelivery ? error.delayMs : nextAttemptDelayMs(processor.retryDelays, attemptsMade),
      },
      telemetry: queueTelemetry(),
    });
    this.worker.on('error', (error) => this.logger.error(`Webhook worker: ${error.message}`));
  }

  onApplicationBootstrap(): void {
    this.logger.log(`Delivering webhooks with concurrency ${this.env.WEBHOOK_CONCURRENCY}`);
    // A delivery records its state on its report job, found by shard: only once the shard count is the deployment's.
    void this.workerQueue.whenShardCountVerified().then(() => {
      if (this.worker.closing) return;
      this.worker.run().catch((error: unknown) => {
        this.logger.error(`Webhook worker stopped: ${error instanceof Error ? error.message : error}`);
      });
    });
  }

  /** Stops taking deliveries and lets those under way finish (each is bounded by WEBHOOK_TIMEOUT_SECONDS). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close().catch((error: unknown) => {
      this.logger.warn(`Closing the webhook worker: ${error instanceof Error ? error.message : error}`);
    });
    this.connection.disconnect();
  }
}
