import { Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { randomInt } from 'node:crypto';
import { Environment } from '@report-jobs/config';
import { REPORTS_QUEUE, type ReportJobData, type ReportJobOutput } from '@report-jobs/contract';
import { createRedisClient, withTimeout, type RedisClient } from '@report-jobs/queue';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { LinkedSignal } from './linked-signal';
import { WorkerQueue } from '../queue/worker-queue';
import { queueTelemetry } from '@report-jobs/tracing';
import { WebhookRelay } from '../webhooks/webhook-relay';
import { ReportJobProcessor, SHUTDOWN_REASON, type ReportJob } from './report-job.processor';

/**
 * After the grace period, how long interrupted attempts get to stop and be handed back to
 * the queue before the worker stops waiting for them (a handler that ignores its signal).
 */
export const HAND_BACK_WINDOW_MS = 3_000;
/** Longest wait for Redis while handing a job back; past it the lock expiry recovers the job. */
export const HAND_BACK_TIMEOUT_MS = 2_000;
/** A stall limit no job reaches: its attempts run out long before. */
const NEVER_FAIL_FOR_STALLING = Number.MAX_SAFE_INTEGER;

/**
 * Splits a process's concurrency over the shards: each gets ⌊total / parts⌋, and the
 * remainder goes one each to the shards from `offset` on (a random offset per process, so
 * that over a fleet no shard is favoured).
 */
export function splitConcurrency(total: number, parts: number, offset: number): number[] {
  const base = Math.floor(total / parts);
  const extra = total % parts;
  return Array.from({ length: parts }, (_, shard) => base + ((shard - offset + parts) % parts < extra ? 1 : 0));
}

/** An attempt running on this worker. */
interface ActiveAttempt {
  job: ReportJob;
  /** BullMQ's lock token of the attempt; moving the job needs it. */
  token: string;
  /** Fired when the attempt must stop because the worker shuts down. */
  interrupt: AbortController;
  /** The job is back in the queue; whatever the attempt does next is ignored. */
  handedBack: boolean;
}

/**
 * Owns the BullMQ Workers of this process, one per shard: starts consuming once the app
 * has booted and, on SIGTERM, stops taking jobs and gives active ones
 * WORKER_SHUTDOWN_GRACE_MS to finish. Jobs still running then are interrupted and put back
 * in the queue as they were, so another worker runs them: not a failed attempt, no
 * backoff, the retry budget untouched.
 *
 * With several shards, WORKER_CONCURRENCY is split between the shards' Workers: each shard
 * always has its share of every process, so a busy shard cannot starve the others, and
 * the process never runs more than WORKER_CONCURRENCY jobs. The price: a shard's backlog
 * cannot borrow the idle share of another (jobs spread evenly over the shards, so the
 * shares stay close to their load).
 */
@Injectable()
export class ReportWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReportWorker.name);
  private readonly connection: RedisClient;
  private readonly active = new Map<string, ActiveAttempt>();
  /** One per shard, in shard order. */
  readonly workers: Worker<ReportJobData, ReportJobOutput>[];
  /** Each Worker's blocking connection (the one that waits for jobs), once BullMQ has made it. */
  private readonly blockingClients: Array<{ status: string } | undefined> = [];
  private readonly concurrencies: number[];

  constructor(
    private readonly processor: ReportJobProcessor,
    private readonly env: Environment,
    private readonly metrics: WorkerMetrics,
    private readonly workerQueue: WorkerQueue,
    private readonly webhooks: WebhookRelay,
  ) {
    this.connection = createRedisClient(env, 'worker', { name: 'worker-consumer' });
    this.connection.on('error', (error: Error) => this.logger.warn(`Redis connection: ${error.message}`));
    // Three parameters: BullMQ then gives each attempt a signal, which worker.cancelJob() fires.
    const processFn = (job: ReportJob, token?: string, signal?: AbortSignal) => this.run(job, token, signal);
    const shards = workerQueue.shards;
    this.concurrencies = splitConcurrency(env.WORKER_CONCURRENCY, shards.count, randomInt(shards.count));
    this.workers = shards.all.map((shard) => this.createWorker(shard.prefix, this.concurrencies[shard.index], processFn));
  }

  private createWorker(
    prefix: string,
    concurrency: number,
    processFn: (job: ReportJob, token?: string, signal?: AbortSignal) => Promise<ReportJobOutput>,
  ): Worker<ReportJobData, ReportJobOutput> {
    const env = this.env;
    const worker = new Worker<ReportJobData, ReportJobOutput>(REPORTS_QUEUE, processFn, {
      connection: this.connection,
      prefix,
      autorun: false,
      concurrency,
      // A crashed worker's job runs again once its lock has expired and a stalled-job check
      // has seen it: within lockDuration + stalledInterval, 1.5 × WORKER_LOCK_DURATION_MS.
      lockDuration: env.WORKER_LOCK_DURATION_MS,
      stalledInterval: Math.round(env.WORKER_LOCK_DURATION_MS / 2),
      // Crashes spend the job's own attempts (ReportJobProcessor checks them as each attempt
      // starts), so BullMQ's separate stall limit must never fail a job first.
      maxStalledCount: NEVER_FAIL_FOR_STALLING,
      telemetry: queueTelemetry(),
    });
    worker.on('error', (error) => this.logger.error(`Worker: ${error.message}`));
    worker.on('failed', (job, error) => {
      if (!job || !job.finishedOn) return;
      this.logger.warn({ instanceId: job.id }, `Job failed for good: ${error.message}`);
      this.webhooks.afterEnd(job);
    });
    worker.on('completed', (job) => this.webhooks.afterEnd(job));
    this.metrics.observe(worker);
    return worker;
  }

  /**
   * Consuming every shard, not closing, and both connections up: the one for commands and
   * each Worker's blocking connection, the one that waits for jobs (after a Redis restart
   * or a failover it must reconnect too, or the worker would never see a job again); and
   * the master of every shard accepts writes.
   */
  async isReady(): Promise<boolean> {
    const consuming =
      this.connection.status === 'ready' &&
      this.workers.every((worker, shard) => worker.isRunning() && !worker.closing && this.blockingClients[shard]?.status === 'ready');
    return consuming && (await this.workerQueue.writable());
  }

  /** Fires the cancellation of a job running in this process; false when it does not run here. */
  cancelJob(instanceId: string, reason: string): boolean {
    return this.workers[this.workerQueue.shards.forJob(instanceId).index].cancelJob(instanceId, reason);
  }

  onApplicationBootstrap(): void {
    const shards = this.workerQueue.shards;
    const what = shards.count === 1 ? `queue "${REPORTS_QUEUE}"` : `${shards.count} shards of queue "${REPORTS_QUEUE}"`;
    const split = shards.count === 1 ? '' : ` (${this.concurrencies.join(' + ')})`;
    this.logger.log(`Consuming ${what} with concurrency ${this.env.WORKER_CONCURRENCY}${split}`);
    this.startOnceShardCountVerified();
  }

  /** Consumes only once the shard count is known to be the deployment's (see WorkerQueue). */
  private startOnceShardCountVerified(): void {
    void this.workerQueue.whenShardCountVerified().then(() => {
      this.workers.forEach((worker, shard) => {
        void worker.getBackend().blockingClient?.then((client) => (this.blockingClients[shard] = client as unknown as { status: string }));
        worker.run().catch((error: unknown) => {
          this.logger.error(`Worker stopped: ${error instanceof Error ? error.message : error}`);
        });
      });
    });
  }

  /** One attempt, as BullMQ calls it; an attempt interrupted by shutdown goes back to the queue. */
  private async run(job: ReportJob, token?: string, cancel?: AbortSignal): Promise<ReportJobOutput> {
    const attempt: ActiveAttempt = { job, token: token ?? '', interrupt: new AbortController(), handedBack: false };
    const key = job.id ?? token ?? '';
    this.active.set(key, attempt);
    // The combined signal carries the reason of whichever fired first.
    const linked = cancel ? new LinkedSignal(cancel, attempt.interrupt.signal) : undefined;
    try {
      return await this.processor.process(job, linked?.signal ?? attempt.interrupt.signal);
    } catch (error) {
      // A final verdict (time limit, termination, invalid input) stands even during shutdown.
      const interrupted = attempt.interrupt.signal.aborted && !isUnrecoverable(error);
      if (!interrupted) throw error;
      await this.handBack(attempt);
      this.metrics.attemptInterrupted(job);
      // Tells BullMQ the job was moved already: it neither fails nor retries it.
      throw new WaitingError();
    } finally {
      linked?.release();
      this.active.delete(key);
    }
  }

  /**
   * Moves the attempt's job from active back to the queue (BullMQ's moveJobFromActiveToWait,
   * the move it uses for rate-limited jobs): the lock is released and attemptsMade, the
   * count the retry budget and backoff go by, is left as it was. If Redis cannot do it in
   * time the job stays active without a lock renewal, and once the lock expires another
   * worker's stalled-job check puts it back in the queue.
   */
  private async handBack(attempt: ActiveAttempt): Promise<void> {
    if (attempt.handedBack) return;
    const { job, token } = attempt;
    const context = { instanceId: job.id, correlationId: job.data?.correlationId };
    try {
      await withTimeout(job.moveToWait(token), HAND_BACK_TIMEOUT_MS, 'Redis did not answer in time');
      attempt.handedBack = true;
      this.logger.log(context, 'Attempt interrupted by shutdown; the job is back in the queue for another worker');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(context, `Could not hand the job back (${reason}); it is retried once its lock expires`);
    }
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const grace = this.env.WORKER_SHUTDOWN_GRACE_MS;
    const cause = signal ? ` (${signal})` : '';
    this.logger.log(`Shutting down${cause}; ${this.active.size} active job(s) get ${grace} ms to finish`);
    // Stops fetching at once; settles when the active attempts are over.
    const closed = Promise.all(this.workers.map((worker) => worker.close())).then(
      () => true,
      (error: unknown) => {
        this.logger.warn(`Closing the worker: ${error instanceof Error ? error.message : error}`);
        return true;
      },
    );
    try {
      if (await settlesWithin(closed, grace)) return;

      const running = [...this.active.values()];
      this.logger.warn(`${running.length} job(s) still running after ${grace} ms; handing them back to the queue`);
      for (const attempt of running) attempt.interrupt.abort(SHUTDOWN_REASON);
      if (await settlesWithin(closed, HAND_BACK_WINDOW_MS)) return;

      // Attempts that ignore their signal: hand their jobs back without them and stop waiting.
      const stuck = [...this.active.values()].filter((attempt) => !attempt.handedBack);
      this.logger.warn(`${stuck.length} attempt(s) did not stop within ${HAND_BACK_WINDOW_MS} ms; leaving them`);
      await Promise.all(stuck.map((attempt) => this.handBack(attempt)));
    } finally {
      this.connection.disconnect();
    }
  }
}

/** True if `promise` settles within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

function isUnrecoverable(error: unknown): boolean {
  return error instanceof UnrecoverableError || (error instanceof Error && error.name === 'UnrecoverableError');
}
