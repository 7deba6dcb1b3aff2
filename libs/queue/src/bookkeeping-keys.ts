import type { Queue } from 'bullmq';

/**
 * Keys the service keeps beside BullMQ's own, under the queue's prefix so that they
 * live (and are cleared) with the queue, and share its hash tag on Redis Cluster: a script
 * may then touch them together with the queue's keys. Job ids are UUIDs and never contain
 * ':', so none of these can collide with a job's key.
 *
 * With several shards (queue-shards.ts), what concerns a job (its gone record, index
 * entries, the channel its cancellation goes out on, the webhook outbox it enters when it
 * ends) is under its shard's prefix; the service-wide keys (secret, rate counts, sweep
 * lease, shard count) are those of shard 0, the home shard.
 */
export interface BookkeepingKeys {
  /** Hash left where a job was once it is purged or expired (see gone-record.ts). */
  gone(jobId: string): string;
  /** Every job by creation time (sorted set scored by createdTime ms), for listing. */
  index: string;
  /** The jobs of one owner by creation time. */
  ownerIndex(owner: string): string;
  /** The random secret that derives instance ids from idempotency keys. */
  secret: string;
  /** Held by the one worker that sweeps retention at a time. */
  sweepLease: string;
  /**
   * Pub/sub channel that carries cancellation requests to the worker running the job. A
   * channel is no key: on a cluster, PUBLISH reaches subscribers on every node.
   */
  cancelChannel: string;
  /**
   * Jobs with a callback that have ended or are about to, until their delivery is queued
   * (sorted set scored by when to look at the job next; see webhook-outbox.ts).
   */
  webhookOutbox: string;
  /** Requests of one principal in one rate-limit window, shared by the API replicas. */
  rateCount(bucket: string, principal: string, windowStart: number): string;
  /** The number of shards the deployment's jobs are spread over (shard-count.ts). */
  shardCount: string;
  /** Never stored: readiness deletes it, a write that proves the shard's master accepts writes. */
  readinessProbe: string;
}

export function bookkeepingKeys(queue: Pick<Queue, 'toKey'>): BookkeepingKeys {
  return {
    gone: (jobId) => queue.toKey(`rj:gone:${jobId}`),
    index: queue.toKey('rj:index'),
    ownerIndex: (owner) => queue.toKey(`rj:index:${owner}`),
    secret: queue.toKey('rj:secret'),
    sweepLease: queue.toKey('rj:sweep-lease'),
    cancelChannel: queue.toKey('rj:cancel'),
    webhookOutbox: queue.toKey('rj:webhook-outbox'),
    rateCount: (bucket, principal, windowStart) => queue.toKey(`rj:rate:${bucket}:${principal}:${windowStart}`),
    shardCount: queue.toKey('rj:shards'),
    readinessProbe: queue.toKey('rj:ready'),
  };
}

/** Field of a job's hash that records a client's request to terminate it while it runs. */
export const TERMINATE_FIELD = 'rjTerminate';

/**
 * Field of a job's hash that records that the job ended by termination, as
 * `{"reason":…,"at":…}`: written by the terminate script for a job that had not started,
 * or by the worker just before it fails an attempt it aborted on request. Only this
 * field, on a failed job, makes the job Terminated; a request alone never does.
 */
export const TERMINATED_FIELD = 'rjTerminated';

/**
 * Field of a job's hash that holds the delivery state of its callback, as a
 * WebhookDeliveryRecord's JSON: set once the delivery is queued, updated by every attempt.
 * Kept on the job so that it goes with the job and the status read finds it in the same read.
 */
export const WEBHOOK_FIELD = 'rjWebhook';

/** What a termination request, or a job's end by termination, records: why, and when it was asked for. */
export interface TerminationRecord {
  reason: string;
  at: number;
}
