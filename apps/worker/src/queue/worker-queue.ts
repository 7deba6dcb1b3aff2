import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Environment } from '@report-jobs/config';
import { REPORTS_QUEUE, type ReportJobData } from '@report-jobs/contract';
import { bookkeepingKeys, createWorkerConnection, JobLifecycle, type BookkeepingKeys } from '@report-jobs/queue';

/** The worker's handle on the queue for housekeeping (retention, terminations, key names), beside its BullMQ Worker. */
@Injectable()
export class WorkerQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(WorkerQueue.name);
  readonly redis: Redis;
  readonly queue: Queue<ReportJobData>;
  readonly keys: BookkeepingKeys;
  readonly lifecycle: JobLifecycle;

  constructor(env: Environment) {
    this.redis = createWorkerConnection(env.REDIS_URL);
    this.redis.on('error', (error) => this.logger.warn(`Redis connection: ${error.message}`));
    this.queue = new Queue<ReportJobData>(REPORTS_QUEUE, { connection: this.redis });
    this.queue.on('error', (error) => this.logger.warn(`Queue: ${error.message}`));
    this.keys = bookkeepingKeys(this.queue);
    this.lifecycle = new JobLifecycle(this.redis, this.queue, env.JOB_GONE_RETENTION_SECONDS * 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
  }
}
