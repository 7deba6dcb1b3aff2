import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Environment } from '@report-jobs/config';
import {
  REPORT_JOB_NAME,
  REPORTS_QUEUE,
  reportJobOptions,
  type ReportJobData,
} from '@report-jobs/contract';
import { createProducerConnection, JobSnapshotReader, type JobSnapshot } from '@report-jobs/queue';
import { ServiceUnavailableError } from '../http/problem-details';

/**
 * The API's only door to Redis: adds jobs and reads their snapshots. It runs no worker.
 * Every Redis failure leaves here as ServiceUnavailableError, after being logged.
 */
@Injectable()
export class JobStore implements OnApplicationShutdown {
  private readonly logger = new Logger(JobStore.name);
  private readonly redis: Redis;
  private readonly queue: Queue<ReportJobData>;
  private readonly reader: JobSnapshotReader;

  constructor(private readonly env: Environment) {
    this.redis = createProducerConnection(env.REDIS_URL);
    // Without listeners, an 'error' event would crash the process during an outage.
    this.redis.on('error', (error) => this.logger.warn(`Redis connection: ${error.message}`));
    this.queue = new Queue<ReportJobData>(REPORTS_QUEUE, { connection: this.redis });
    this.queue.on('error', (error) => this.logger.warn(`Queue: ${error.message}`));
    this.reader = new JobSnapshotReader(this.redis, this.queue);
  }

  /** Resolves once Redis has acknowledged the job; the job is then durably queued. */
  async add(instanceId: string, data: ReportJobData): Promise<void> {
    await this.guard('add a job', () =>
      this.queue.add(
        REPORT_JOB_NAME,
        data,
        reportJobOptions(instanceId, {
          attempts: this.env.JOB_ATTEMPTS,
          backoffMs: this.env.JOB_BACKOFF_MS,
          completedRetentionSeconds: this.env.JOB_RETENTION_COMPLETED_SECONDS,
          failedRetentionSeconds: this.env.JOB_RETENTION_FAILED_SECONDS,
        }),
      ),
    );
  }

  read(instanceId: string): Promise<JobSnapshot | null> {
    return this.guard('read a job', () => this.reader.read(instanceId));
  }

  /** Resolves when Redis answers PING (within the connection's command timeout). */
  async ping(): Promise<void> {
    await this.guard('ping Redis', () => this.redis.ping());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
  }

  private async guard<T>(what: string, operation: () => Promise<T>): Promise<T> {
    // Until the connection is ready BullMQ would wait for it; answer at once instead.
    if (this.redis.status !== 'ready') {
      throw new ServiceUnavailableError(`Redis is not connected (status ${this.redis.status})`);
    }
    try {
      return await operation();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error(`Could not ${what}: ${message}`);
      throw new ServiceUnavailableError(message);
    }
  }
}
