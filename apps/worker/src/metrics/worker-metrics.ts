import { Injectable, Logger } from '@nestjs/common';
import type { Job, Worker } from 'bullmq';
import type { Counter, Histogram, Registry } from 'prom-client';
import { Environment } from '@report-jobs/config';
import { isReportOperation, type ReportJobData } from '@report-jobs/contract';
import {
  attemptsTotal,
  createRegistry,
  jobRunSeconds,
  jobWaitSeconds,
  registerQueueGauges,
  registerWebhookQueueGauge,
  webhookAttemptsTotal,
  type AttemptOutcome,
  type WebhookAttemptOutcome,
} from '@report-jobs/metrics';
import type { QueueCounts } from '@report-jobs/queue';
import { TERMINATION_MESSAGE_PREFIX } from '@report-jobs/queue';
import { WorkerQueue } from '../queue/worker-queue';

/** BullMQ's reason for failing a job that stalled more often than maxStalledCount allows. */
export const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';
/** Label of a job whose data names no known operation. */
const UNKNOWN_OPERATION = 'unknown';

/**
 * The worker's metrics: how long jobs waited, how long attempts ran and how each ended,
 * fed by the BullMQ worker's events (BullMQ's own verdict on retry or failure) and by
 * ReportWorker for attempts handed back on shutdown, which BullMQ reports no event for.
 * Served on WORKER_HEALTH_PORT at /metrics. Off (nothing created, nothing recorded) with
 * WORKER_METRICS=false or WORKER_HEALTH_PORT=0.
 */
@Injectable()
export class WorkerMetrics {
  private readonly logger = new Logger(WorkerMetrics.name);
  readonly registry?: Registry;
  private readonly wait?: Histogram<'operation'>;
  private readonly run?: Histogram<'operation' | 'outcome'>;
  private readonly attempts?: Counter<'operation' | 'outcome'>;
  private readonly webhookAttempts?: Counter<'outcome'>;

  constructor(
    env: Environment,
    private readonly workerQueue: WorkerQueue,
  ) {
    if (!env.WORKER_METRICS || env.WORKER_HEALTH_PORT === 0) return;
    this.registry = createRegistry();
    this.wait = jobWaitSeconds(this.registry);
    this.run = jobRunSeconds(this.registry);
    this.attempts = attemptsTotal(this.registry);
    this.webhookAttempts = webhookAttemptsTotal(this.registry);
    registerQueueGauges(this.registry, { read: () => workerQueue.queueCounts() });
  }

  /** Reports the webhook queue's deliveries by state at each scrape; a no-op with metrics off. */
  observeWebhookQueue(read: () => Promise<QueueCounts>): void {
    if (this.registry) registerWebhookQueueGauge(this.registry, read);
  }

  /** A webhook delivery attempt ended so. */
  webhookAttempt(outcome: WebhookAttemptOutcome): void {
    this.webhookAttempts?.inc({ outcome });
  }

  /** Follows the worker's events; a no-op with metrics off. */
  observe(worker: Worker<ReportJobData>): void {
    if (!this.registry) return;
    worker.on('active', (job) => this.attemptStarted(job));
    worker.on('completed', (job) => this.attemptEnded(job, 'completed'));
    worker.on('failed', (job, error) => job && this.attemptEnded(job, failureOutcome(job, error)));
    worker.on('stalled', (jobId) => void this.stalled(jobId));
  }

  /** An attempt stopped by shutdown and handed back to the queue for another worker. */
  attemptInterrupted(job: Job<ReportJobData>): void {
    this.attemptEnded(job, 'interrupted');
  }

  private attemptStarted(job: Job<ReportJobData>): void {
    // Later attempts (retries, or after a stall or a hand-back) wait for other reasons.
    if (job.attemptsStarted !== 1 || job.processedOn === undefined) return;
    this.wait!.observe({ operation: operationOf(job.data) }, Math.max(0, job.processedOn - job.timestamp) / 1000);
  }

  private attemptEnded(job: Job<ReportJobData>, outcome: AttemptOutcome): void {
    const operation = operationOf(job.data);
    this.attempts!.inc({ operation, outcome });
    // A job failed for stalling did not run here: its last attempt's time is unknown.
    if (outcome === 'stalled' || job.processedOn === undefined) return;
    const endedAt = job.finishedOn ?? Date.now();
    this.run!.observe({ operation, outcome }, Math.max(0, endedAt - job.processedOn) / 1000);
  }

  /**
   * BullMQ's stalled-job check found an attempt whose worker stopped renewing its lock
   * (usually one that died); the event names only the job, so its operation is read back.
   */
  private async stalled(jobId: string): Promise<void> {
    const raw = await this.workerQueue.redis.hget(this.workerQueue.handleOf(jobId).queue.toKey(jobId), 'data').catch((error: unknown) => {
      this.logger.warn(`Could not read stalled job ${jobId}: ${error instanceof Error ? error.message : error}`);
      return null;
    });
    this.attempts!.inc({ operation: operationOf(parse(raw)), outcome: 'stalled' });
  }
}

/** What a failed attempt amounts to, by BullMQ's verdict (finishedOn is set only on a final failure). */
export function failureOutcome(job: Pick<Job, 'finishedOn'>, error: Error): AttemptOutcome {
  if (error.message === STALLED_TOO_OFTEN) return 'stalled';
  if (!job.finishedOn) return 'retried';
  return error.message.startsWith(TERMINATION_MESSAGE_PREFIX) ? 'terminated' : 'failed';
}

function operationOf(data: Partial<ReportJobData> | undefined): string {
  const operation = data?.input?.operation;
  return isReportOperation(operation) ? operation : UNKNOWN_OPERATION;
}

function parse(raw: string | null): Partial<ReportJobData> | undefined {
  try {
    return raw ? (JSON.parse(raw) as Partial<ReportJobData>) : undefined;
  } catch {
    return undefined;
  }
}
