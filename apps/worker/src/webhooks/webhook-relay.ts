import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Job } from 'bullmq';
import { mapJobState, type ReportJobData, type RuntimeStatus, type WebhookEventType } from '@report-jobs/contract';
import { toStatusPayload, webhookData, type JobSnapshot } from '@report-jobs/queue';
import { WorkerQueue } from '../queue/worker-queue';
import { WebhookQueue } from './webhook-queue';

/** How often the outbox is looked at for jobs whose delivery nobody queued (their worker died). */
export const OUTBOX_POLL_MS = 1_000;
/**
 * How long after a worker announces a job's end the outbox may relay it. The worker relays
 * right after the end itself; this is for when it died in between.
 */
export const END_GRACE_MS = 5_000;
/** An outbox entry whose job has not ended (its worker died first) is looked at again this often. */
export const NOT_ENDED_RECHECK_MS = 30_000;
const OUTBOX_BATCH = 100;

const EVENT_TYPES: Partial<Record<RuntimeStatus, WebhookEventType>> = {
  Completed: 'report.completed',
  Failed: 'report.failed',
  Terminated: 'report.terminated',
};

type AnyJob = Pick<Job<Partial<ReportJobData>>, 'id' | 'data'>;

/**
 * Turns the end of a job with a callback into a queued delivery, at least once (see
 * libs/queue/src/webhook-outbox.ts): the attempt that ends a job puts it in the outbox
 * first (expectEnd), the worker relays it as soon as BullMQ has ended it (afterEnd), and
 * every worker polls the outboxes (one per shard) for entries nobody relayed. Relaying is
 * idempotent, so these may overlap.
 */
@Injectable()
export class WebhookRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookRelay.name);
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private shardCountVerified = false;

  constructor(
    private readonly webhooks: WebhookQueue,
    private readonly workerQueue: WorkerQueue,
  ) {}

  /** Before the attempt that ends a job returns: from now on its end cannot go unnoticed. */
  async expectEnd(job: AnyJob, now = Date.now()): Promise<void> {
    if (job.data?.callbackUrl) await this.webhooks.outboxOf(job.id!).enter(job.id!, now + END_GRACE_MS);
  }

  /** BullMQ has ended the job (completed, or failed for good). */
  afterEnd(job: AnyJob): void {
    if (!job.data?.callbackUrl) return;
    this.relay(job.id!).catch((error: unknown) =>
      this.logger.warn({ instanceId: job.id }, `Could not queue the webhook yet; the outbox will: ${messageOf(error)}`),
    );
  }

  /** Queues the delivery of the job's end, if it has ended and has a callback not yet queued. */
  async relay(instanceId: string, now = Date.now()): Promise<void> {
    const outbox = this.webhooks.outboxOf(instanceId);
    const found = await this.webhooks.lookup(instanceId);
    const job = found.found === 'job' ? found.job : undefined;
    const data = job?.data as Partial<ReportJobData> | undefined;
    if (!job || !data?.callbackUrl || !data.owner || job.webhook) return outbox.leave(instanceId);
    if (job.state !== 'completed' && job.state !== 'failed') return outbox.postpone(instanceId, now + NOT_ENDED_RECHECK_MS);

    const event = eventOf(job, now);
    await this.webhooks.add(event.id, {
      instanceId,
      url: data.callbackUrl,
      principal: data.owner,
      webhookId: `msg_${event.id}`,
      body: JSON.stringify(event.body),
    });
    await outbox.settle(instanceId, { state: 'pending', attempts: 0 });
    this.logger.log({ instanceId, correlationId: data.correlationId }, `Webhook ${event.body.type} queued`);
  }

  onApplicationBootstrap(): void {
    // Outbox entries lead to jobs by shard: polled only once the shard count is the deployment's.
    void this.workerQueue.whenShardCountVerified().then(() => (this.shardCountVerified = true));
    this.timer = setInterval(() => {
      this.polling ??= this.pollOutbox()
        .catch((error: unknown) => this.logger.warn(`Webhook outbox poll failed: ${messageOf(error)}`))
        .finally(() => (this.polling = undefined));
    }, OUTBOX_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  /** Looks in every shard's outbox; a shard that cannot be read now is looked at again at the next poll. */
  private async pollOutbox(): Promise<void> {
    if (!this.shardCountVerified || !this.webhooks.redisReady) return;
    for (const [shard, outbox] of this.webhooks.outboxes.entries()) {
      const due = await outbox.due(Date.now(), OUTBOX_BATCH).catch((error: unknown) => {
        this.logger.warn(`Could not read the webhook outbox of shard ${shard}: ${messageOf(error)}`);
        return [];
      });
      for (const instanceId of due) {
        await this.relay(instanceId).catch((error: unknown) =>
          this.logger.warn({ instanceId }, `Could not relay a webhook from the outbox: ${messageOf(error)}`),
        );
      }
    }
  }
}

/**
 * The event of a job's end: its id (one per end, so it is stable across the delivery's
 * attempts and never repeats even if the same instance id comes back after its record
 * expired) and the Standard Webhooks body, whose data is the final status payload.
 */
function eventOf(job: JobSnapshot, now: number) {
  const mapping = mapJobState(job.state, Math.max(job.attemptsStarted, job.attemptsMade), { endedByTermination: job.terminated !== undefined })!;
  const endedAt = job.finishedOn ?? now;
  return {
    id: `${job.id}_${endedAt}`,
    body: {
      type: EVENT_TYPES[mapping.runtimeStatus]!,
      timestamp: new Date(endedAt).toISOString(),
      data: webhookData(toStatusPayload(job, mapping)),
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
