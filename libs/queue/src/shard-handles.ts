import { Queue, type Telemetry } from 'bullmq';
import { REPORTS_QUEUE, type ReportJobData } from '@report-jobs/contract';
import { bookkeepingKeys, type BookkeepingKeys } from './bookkeeping-keys';
import { JobLifecycle } from './job-lifecycle';
import { JobSnapshotReader } from './job-snapshot.reader';
import { QueueCountsReader } from './queue-counts.reader';
import type { QueueShard, QueueShards } from './queue-shards';
import type { RedisClient } from './redis-connections';
import { WebhookOutbox } from './webhook-outbox';

/** One shard's queue on one connection, with the readers and scripts bound to its keys. */
export interface ShardHandle {
  shard: QueueShard;
  queue: Queue<ReportJobData>;
  keys: BookkeepingKeys;
  lifecycle: JobLifecycle;
  snapshots: JobSnapshotReader;
  counts: QueueCountsReader;
  /** The shard's webhook outbox: jobs of this shard whose delivery is not queued yet. */
  outbox: WebhookOutbox;
}

export interface ShardHandleOptions {
  /** JOB_GONE_RETENTION_SECONDS in ms: how long a purged or expired job's record lasts. */
  goneRetentionMs: number;
  /** BullMQ's telemetry option (tracing), if on. */
  telemetry?: Telemetry;
  /** Called with the errors a queue emits (they would crash the process without a listener). */
  onError: (error: Error) => void;
}

/**
 * A handle on every shard, in shard order, all sharing `client` for the service's own
 * scripts and reads. BullMQ's queues go on `queueClient` when given: BullMQ defines some
 * fifty scripts on the connection it is handed, and ioredis copies every script of a
 * connection onto each pipeline it builds (an automatic pipeline is built per event-loop
 * tick), so reads on a connection without them cost the API markedly less CPU.
 */
export function openShards(shards: QueueShards, client: RedisClient, options: ShardHandleOptions, queueClient: RedisClient = client): ShardHandle[] {
  return shards.all.map((shard) => {
    const queue = new Queue<ReportJobData>(REPORTS_QUEUE, { connection: queueClient, prefix: shard.prefix, telemetry: options.telemetry });
    queue.on('error', options.onError);
    return {
      shard,
      queue,
      keys: bookkeepingKeys(queue),
      lifecycle: new JobLifecycle(client, queue, options.goneRetentionMs),
      snapshots: new JobSnapshotReader(client, queue),
      counts: new QueueCountsReader(client, queue),
      outbox: new WebhookOutbox(client, queue),
    };
  });
}
