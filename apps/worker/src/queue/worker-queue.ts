import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Environment } from '@report-jobs/config';
import { REPORTS_QUEUE, type ReportJobData } from '@report-jobs/contract';
import { bookkeepingKeys, checkEvictionPolicy, createWorkerConnection, type BookkeepingKeys } from '@report-jobs/queue';

/** The worker's handle on the queue for housekeeping (retention, key names), beside its BullMQ Worker. */
@Injectable()
export class WorkerQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(WorkerQueue.name);
  readonly redis: Redis;
  readonly queue: Queue<ReportJobData>;
  readonly keys: BookkeepingKeys;

  constructor(env: Environment) {
    this.redis = createWorkerConnection(env.REDIS_URL);
    this.redis.on('error', (error) => this.logger.warn(`Redis connection: ${error.message}`));
    checkEvictionPolicy(this.redis, this.logger);
    this.queue = new Queue<ReportJobData>(REPORTS_QUEUE, { connection: this.redis });
    this.queue.on('error', (error) => this.logger.warn(`Queue: ${error.message}`));
    this.keys = bookkeepingKeys(this.queue);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
  }
}
