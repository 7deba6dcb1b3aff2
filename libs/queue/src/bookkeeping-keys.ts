import type { Queue } from 'bullmq';

/**
 * Keys the service keeps beside BullMQ's own, under the queue's prefix so that they
 * live (and are cleared) with the queue. Job ids are UUIDs and never contain ':', so
 * none of these can collide with a job's key.
 */
export interface BookkeepingKeys {
  /** Hash left where a job was: terminated before it ran, purged, or expired by retention. */
  gone(jobId: string): string;
  /** Every job by creation time (sorted set scored by createdTime ms), for listing. */
  index: string;
  /** The jobs of one owner by creation time. */
  ownerIndex(owner: string): string;
  /** Jobs terminated before they ran, scored by the time their record expires. */
  terminated: string;
  /** The random secret that derives instance ids from idempotency keys. */
  secret: string;
  /** Pub/sub channel that carries cancellation requests to the worker running the job. */
  cancelChannel: string;
}

export function bookkeepingKeys(queue: Pick<Queue, 'toKey'>): BookkeepingKeys {
  return {
    gone: (jobId) => queue.toKey(`rj:gone:${jobId}`),
    index: queue.toKey('rj:index'),
    ownerIndex: (owner) => queue.toKey(`rj:index:${owner}`),
    terminated: queue.toKey('rj:terminated'),
    secret: queue.toKey('rj:secret'),
    cancelChannel: queue.toKey('rj:cancel'),
  };
}

/** Field of a job's hash that records a cancellation request for a running job. */
export const TERMINATE_FIELD = 'rjTerminate';
