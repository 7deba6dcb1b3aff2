import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Environment } from '@report-jobs/config';
import { createWorkerConnection } from '@report-jobs/queue';
import { WorkerQueue } from '../queue/worker-queue';
import { TERMINATION_PREFIX } from './report-job.processor';
import { ReportWorker } from './report-worker';
import { TerminationRequests } from './termination-requests';

/**
 * Carries a client's termination request to the worker process that runs the job: the
 * API publishes it on a Redis channel every worker listens to, and the one holding the
 * job aborts it (BullMQ can cancel a job only inside the process that runs it).
 */
@Injectable()
export class CancellationListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CancellationListener.name);
  private subscriber?: Redis;

  constructor(
    private readonly reportWorker: ReportWorker,
    private readonly workerQueue: WorkerQueue,
    private readonly pending: TerminationRequests,
    private readonly env: Environment,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A subscribed connection can do nothing else, hence its own.
    this.subscriber = createWorkerConnection(this.env.REDIS_URL);
    this.subscriber.on('error', (error) => this.logger.warn(`Redis connection: ${error.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => this.onRequest(message));
    await this.subscriber.subscribe(this.workerQueue.keys.cancelChannel);
  }

  private onRequest(message: string): void {
    try {
      const { instanceId, reason } = JSON.parse(message) as { instanceId: string; reason: string };
      if (this.reportWorker.worker.cancelJob(instanceId, `${TERMINATION_PREFIX}${reason}`)) {
        this.logger.log({ instanceId }, `Terminating job on request: ${reason}`);
      } else {
        // Not running here, or locked here but not started yet: kept for its start.
        this.pending.remember(instanceId, reason);
      }
    } catch (error) {
      this.logger.warn(`Ignored a malformed termination request: ${error instanceof Error ? error.message : error}`);
    }
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }
}
