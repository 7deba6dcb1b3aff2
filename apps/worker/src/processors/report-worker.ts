import { Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { Environment } from '@report-jobs/config';
import { REPORTS_QUEUE, type ReportJobData, type ReportJobOutput } from '@report-jobs/contract';
import { createWorkerConnection } from '@report-jobs/queue';
import { ReportJobProcessor, SHUTDOWN_REASON, type ReportJob } from './report-job.processor';

/**
 * Owns the BullMQ Worker of this process: starts consuming once the app has booted and,
 * on SIGTERM, stops taking jobs and gives active ones WORKER_SHUTDOWN_GRACE_MS to finish
 * before aborting them (they are retried on another worker).
 */
@Injectable()
export class ReportWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReportWorker.name);
  private readonly connection: Redis;
  readonly worker: Worker<ReportJobData, ReportJobOutput>;

  constructor(
    private readonly processor: ReportJobProcessor,
    private readonly env: Environment,
  ) {
    this.connection = createWorkerConnection(env.REDIS_URL);
    this.connection.on('error', (error) => this.logger.warn(`Redis connection: ${error.message}`));
    // BullMQ passes the AbortSignal only to a processor that declares three parameters.
    const run = (job: ReportJob, _token?: string, signal?: AbortSignal) =>
      this.processor.process(job, signal ?? new AbortController().signal);
    this.worker = new Worker<ReportJobData, ReportJobOutput>(REPORTS_QUEUE, run, {
      connection: this.connection,
      autorun: false,
      concurrency: env.WORKER_CONCURRENCY,
      lockDuration: env.WORKER_LOCK_DURATION_MS,
      stalledInterval: env.WORKER_LOCK_DURATION_MS,
    });
    this.worker.on('error', (error) => this.logger.error(`Worker: ${error.message}`));
    this.worker.on('failed', (job, error) => {
      if (job && job.finishedOn) this.logger.warn({ instanceId: job.id }, `Job failed for good: ${error.message}`);
    });
  }

  /** Consuming, not closing, and connected to Redis. */
  isReady(): boolean {
    return this.worker.isRunning() && !this.worker.closing && this.connection.status === 'ready';
  }

  onApplicationBootstrap(): void {
    this.logger.log(`Consuming queue "${REPORTS_QUEUE}" with concurrency ${this.env.WORKER_CONCURRENCY}`);
    this.worker.run().catch((error: unknown) => {
      this.logger.error(`Worker stopped: ${error instanceof Error ? error.message : error}`);
    });
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(`Shutting down (${signal ?? 'no signal'}); waiting for active jobs`);
    const deadline = setTimeout(() => {
      this.logger.warn(`Active jobs still running after ${this.env.WORKER_SHUTDOWN_GRACE_MS} ms; aborting them`);
      this.worker.cancelAllJobs(SHUTDOWN_REASON);
    }, this.env.WORKER_SHUTDOWN_GRACE_MS);
    try {
      await this.worker.close();
    } finally {
      clearTimeout(deadline);
      this.connection.disconnect();
    }
  }
}
