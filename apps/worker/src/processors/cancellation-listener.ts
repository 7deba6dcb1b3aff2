import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Environment } from '@report-jobs/config';
import { createRedisClient, type RedisClient } from '@report-jobs/queue';
import { WorkerQueue } from '../queue/worker-queue';
import { TERMINATION_PREFIX } from './report-job.processor';
import { ReportWorker } from './report-worker';
import { TerminationRequests } from './termination-requests';

/**
 * Carries a client's termination request to the worker process that runs the job: the
 * API publishes it on a Redis channel every worker listens to, and the one holding the
 * job aborts it (BullMQ can cancel a job only inside the process that runs it). Each
 * shard has its channel (the terminate script publishes on its job's shard); a worker
 * listens to all of them on one connection. On a Redis Cluster, a message published on
 * any node reaches subscribers on every node, and the client re-subscribes on another
 * node if its own fails.
 */
@Injectable()
export class CancellationListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CancellationListener.name);
  private subscriber?: RedisClient;

  constructor(
    private readonly reportWorker: ReportWorker,
    private readonly workerQueue: WorkerQueue,
    private readonly pending: TerminationRequests,
    private readonly env: Environment,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A subscribed connection can do nothing else, hence its own.
    this.subscriber = createRedisClient(this.env, 'worker', { name: 'worker-cancellations' });
    this.subscriber.on('error', (error: Error) => this.logger.warn(`Redis connection: ${error.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => this.onRequest(message));
    await this.subscriber.subscribe(...this.workerQueue.handles.map((handle) => handle.keys.cancelChannel));
  }

  private onRequest(message: string): void {
    try {
      const { instanceId, reason } = JSON.parse(message) as { instanceId: string; reason: string };
      if (this.reportWorker.cancelJob(instanceId, `${TERMINATION_PREFIX}${reason}`)) {
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
