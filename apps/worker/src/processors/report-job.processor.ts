import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { Environment, operationTimeouts } from '@report-jobs/config';
import {
  isReportOperation,
  REPORT_OPERATIONS,
  type ReportJobData,
  type ReportJobOutput,
  type ReportOperation,
  type ReportProgress,
} from '@report-jobs/contract';
import { TERMINATE_FIELD, terminationMessage } from '@report-jobs/queue';
import { OPERATION_HANDLERS, OperationError, type OperationHandler } from '../operations/operation-handler';
import { WorkerQueue } from '../queue/worker-queue';
import { TerminationRequests } from './termination-requests';
import { LinkedSignal } from './linked-signal';
import { SimulatedFailures } from '../operations/simulated-failures';
import { WebhookRelay } from '../webhooks/webhook-relay';

/** Why an attempt's signal fired; the processor decides retry or not from it. */
export const SHUTDOWN_REASON = 'worker shutting down';
/** Abort reasons that start with this come from a client's termination request. */
export const TERMINATION_PREFIX = 'terminate:';

export type ReportJob = Job<ReportJobData, ReportJobOutput>;

/** The attempt stopped because the worker shuts down; ReportWorker hands the job back to the queue. */
export class AttemptInterrupted extends Error {
  override name = 'AttemptInterrupted';
}

/**
 * Runs one attempt of a report job: picks the operation's handler, enforces the time
 * limit, reports progress, and turns errors into what BullMQ should do with them:
 * rethrown so BullMQ retries with backoff, or UnrecoverableError to fail at once.
 */
@Injectable()
export class ReportJobProcessor implements OnModuleInit {
  private readonly handlers = new Map<ReportOperation, OperationHandler>();
  private readonly timeouts: Record<string, number>;

  constructor(
    @Inject(OPERATION_HANDLERS) handlers: OperationHandler[],
    private readonly failures: SimulatedFailures,
    private readonly env: Environment,
    private readonly workerQueue: WorkerQueue,
    private readonly terminationRequests: TerminationRequests,
    private readonly webhooks: WebhookRelay,
    private readonly logger: PinoLogger,
  ) {
    for (const handler of handlers) this.handlers.set(handler.operation, handler);
    this.timeouts = operationTimeouts(env);
    logger.setContext(ReportJobProcessor.name);
  }

  /** Refuse to start with an operation the API accepts but no handler runs. */
  onModuleInit(): void {
    const missing = REPORT_OPERATIONS.filter((operation) => !this.handlers.has(operation));
    if (missing.length > 0) throw new Error(`No handler for operation(s): ${missing.join(', ')}`);
    if (this.failures.enabled) this.logger.warn('SIMULATED_FAILURES is set: some attempts will fail on purpose');
  }

  process(job: ReportJob, shutdownSignal: AbortSignal): Promise<ReportJobOutput> {
    const { input, correlationId } = job.data ?? ({} as Partial<ReportJobData>);
    // Every log line of this attempt carries the job's identity and the request id (one
    // child logger per attempt, made with the context).
    const bindings = { instanceId: job.id, customerId: input?.customer_id, correlationId, attempt: job.attemptsStarted };
    return this.logger.runInContext(async () => {
      this.logger.info('Attempt started');
      try {
        const output = await this.runAttempt(job, shutdownSignal);
        // The job ends once this returns: a callback's delivery must survive a crash right after.
        await this.webhooks.expectEnd(job);
        this.logger.info('Attempt completed');
        return output;
      } catch (error) {
        const verdict = this.classify(error, job);
        if (verdict instanceof UnrecoverableError) await this.announceFailure(job);
        throw verdict;
      }
    }, { bindings });
  }

  private async runAttempt(job: ReportJob, shutdownSignal: AbortSignal): Promise<ReportJobOutput> {
    const input = job.data?.input;
    if (!input || typeof input.customer_id !== 'string' || !isReportOperation(input.operation)) {
      throw new OperationError('The job input is not valid for this worker', false);
    }
    const handler = this.handlers.get(input.operation)!;
    const attempt = job.attemptsStarted;
    await this.checkTerminationRequest(job);
    this.checkStallBudget(job);
    this.checkQueueWait(job);
    this.failures.apply(input.customer_id, attempt);

    const limitSeconds = this.timeouts[input.operation] ?? this.env.JOB_TIMEOUT_SECONDS;
    const attemptSignal = new LinkedSignal(shutdownSignal);
    let timedOut = false;
    const timeLimit = setTimeout(() => {
      timedOut = true;
      attemptSignal.abort(new DOMException(`Timed out after ${limitSeconds} s`, 'TimeoutError'));
    }, limitSeconds * 1000);
    // The time limit alone never keeps the process up (as AbortSignal.timeout's would not).
    timeLimit.unref();
    let reports = 0;
    try {
      const result = await handler.run(input, {
        signal: attemptSignal.signal,
        attempt,
        reportProgress: (percent, message) => {
          const progress: ReportProgress = { progress: percent, message, updatedAt: Date.now(), sequence: ++reports };
          return job.updateProgress(progress);
        },
      });
      return { status: 'completed', instanceId: job.id!, result };
    } catch (error) {
      if (timedOut) {
        const setting = limitSeconds === this.timeouts[input.operation] ? 'OPERATION_TIMEOUTS' : 'JOB_TIMEOUT_SECONDS';
        throw new OperationError(`Timed out after ${limitSeconds} s (${setting})`, false);
      }
      const abortReason = String(shutdownSignal.reason ?? '');
      if (shutdownSignal.aborted && abortReason.startsWith(TERMINATION_PREFIX)) {
        throw await this.terminated(job, abortReason.slice(TERMINATION_PREFIX.length));
      }
      if (shutdownSignal.aborted) {
        throw new AttemptInterrupted('Interrupted because the worker shuts down');
      }
      throw error;
    } finally {
      clearTimeout(timeLimit);
      attemptSignal.release();
    }
  }

  /**
   * A termination requested when no worker could act on it is honoured before any work:
   * one that reached this worker just before the job's attempt started is remembered
   * here; one sent while the worker running the job was dead is found on the job itself,
   * which is then on a later attempt (only those pay the Redis read).
   */
  private async checkTerminationRequest(job: ReportJob): Promise<void> {
    let reason = this.terminationRequests.take(job.id!);
    if (reason === undefined && job.attemptsStarted > 1) {
      const stored = await this.workerQueue.redis.hget(this.workerQueue.handleOf(job.id!).queue.toKey(job.id!), TERMINATE_FIELD);
      if (stored) reason = (JSON.parse(stored) as { reason: string }).reason;
    }
    if (reason !== undefined) throw await this.terminated(job, reason);
  }

  /**
   * Records on the job that it ends by termination (while this worker still holds it),
   * then gives the error that fails it for good. Without the record, the failure would
   * read as an ordinary Failed.
   */
  private async terminated(job: ReportJob, reason: string): Promise<OperationError> {
    try {
      await this.workerQueue.handleOf(job.id!).lifecycle.recordTermination(job.id!, job.token ?? '', { reason, at: Date.now() });
    } catch (error) {
      // The job still must not run on: it ends Failed (with the termination as its error).
      this.logger.warn(`Could not record the termination: ${error instanceof Error ? error.message : error}`);
    }
    return new OperationError(terminationMessage(reason), false);
  }

  /**
   * Attempts lost to crashes (a worker that died, or lost its lock, while running the job:
   * BullMQ's stalled count) spend the job's own attempts, like failed ones. A job with none
   * left fails for good here, instead of running again or being failed by BullMQ's own
   * stall limit while it still has attempts.
   */
  private checkStallBudget(job: ReportJob): void {
    const attempts = job.opts.attempts ?? 1;
    const crashes = job.stalledCounter ?? 0;
    if (crashes > 0 && job.attemptsMade + crashes >= attempts) {
      throw new OperationError(
        `Attempts used up by crashes: the worker running the job stopped without finishing it ${crashes} time(s), ` +
          `and ${job.attemptsMade} attempt(s) failed, of ${attempts} allowed`,
        false,
      );
    }
  }

  /** A job that waited too long for a worker is not worth starting any more. */
  private checkQueueWait(job: ReportJob): void {
    const limit = this.env.JOB_QUEUE_WAIT_LIMIT_SECONDS;
    if (limit === 0 || job.attemptsStarted > 1 || job.processedOn === undefined) return;
    const waitedSeconds = (job.processedOn - job.timestamp) / 1000;
    if (waitedSeconds > limit) {
      throw new OperationError(
        `Waited ${Math.round(waitedSeconds)} s in the queue, longer than ${limit} s (JOB_QUEUE_WAIT_LIMIT_SECONDS)`,
        false,
      );
    }
  }

  /**
   * The attempt fails the job for good: its callback's delivery must survive a crash right
   * after. If even that cannot be recorded, the failure still stands; the worker relays
   * the delivery once BullMQ has failed the job.
   */
  private async announceFailure(job: ReportJob): Promise<void> {
    await this.webhooks.expectEnd(job).catch((error: unknown) => {
      this.logger.warn(`Could not record the coming end for its webhook: ${error instanceof Error ? error.message : error}`);
    });
  }

  /** What reaches BullMQ: a retryable Error, or UnrecoverableError; never internals. */
  private classify(error: unknown, job: ReportJob): Error {
    if (error instanceof AttemptInterrupted) {
      this.logger.info('Attempt interrupted by shutdown');
      return error;
    }
    // Crashed attempts count too: this failure may spend the last one BullMQ thinks is left.
    const lastAttempt = job.attemptsMade + 1 + (job.stalledCounter ?? 0) >= (job.opts.attempts ?? 1);
    if (error instanceof OperationError) {
      this.logger.warn({ retryable: error.retryable, lastAttempt }, `Attempt failed: ${error.message}`);
      return error.retryable && !lastAttempt ? new Error(error.message) : new UnrecoverableError(error.message);
    }
    this.logger.error({ err: error, lastAttempt }, 'Attempt failed unexpectedly');
    const message = 'The operation failed unexpectedly';
    return lastAttempt ? new UnrecoverableError(message) : new Error(message);
  }
}
