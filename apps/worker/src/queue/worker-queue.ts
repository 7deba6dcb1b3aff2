import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Environment } from '@report-jobs/config';
import { REPORTS_QUEUE, type ReportJobData } from '@report-jobs/contract';
import {
  bookkeepingKeys,
  checkEvictionPolicy,
  createWorkerConnection,
  JobLifecycle,
  QueueCountsReader,
  type BookkeepingKeys,
  type QueueCounts,
} from '@report-jobs/queue';

/** The worker's handle on the queue for housekeeping (retention, terminations, key names), beside its BullMQ Worker. */
@Injectable()
export class WorkerQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(WorkerQueue.name);
  readonly redis: Redis;
  readonly queue: Queue<ReportJobData>;
  readonly keys: BookkeepingKeys;
  private readonly countsReader: QueueCountsReader;
  readonly lifecycle: JobLifecycle;

  constructor(env: Environment) {
    this.redis = createWorkerConnection(env.REDIS_URL);
    this.redis.on('error', (error) => this.logger.warn(`Redis connection: ${error.message}`));
    checkEvictionPolicy(this.redis, this.logger);
    this.queue = new Queue<ReportJobData>(REPORTS_QUEUE, { connection: this.redis });
    this.queue.on('error', (error) => this.logger.warn(`Queue: ${error.message}`));
    this.keys = bookkeepingKeys(this.queue);
    this.lifecycle = new JobLifecycle(this.redis, this.queue, env.JOB_GONE_RETENTION_SECONDS * 1000);
    this.countsReader = new QueueCountsReader(this.redis, this.queue);
  }

  /**
   * Jobs per state and the age of the next in line, for the metrics. Refused at once while
   * disconnected: this connection would otherwise hold the command until Redis is back.
   */
  queueCounts(): Promise<QueueCounts> {
    if (this.redis.status !== 'ready') return Promise.reject(new Error(`Redis is not connected (status ${this.redis.status})`));
    return this.countsReader.read();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
  }
}
