import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Environment } from '@report-jobs/config';
import {
  checkRedisServer,
  createRedisClient,
  keySlot,
  masterConnection,
  openShards,
  QueueShards,
  exitOnShardCountMismatch,
  ShardCountCheck,
  sumQueueCounts,
  isCluster,
  type QueueCounts,
  type RedisClient,
  type ShardHandle,
} from '@report-jobs/queue';

/** How long to wait before checking the shard count again when Redis failed the check. */
const SHARD_CHECK_RETRY_MS = 1_000;

/**
 * The worker's handle on the queues for housekeeping (retention, terminations, key names),
 * beside its BullMQ workers: one handle per shard, all on one connection.
 */
@Injectable()
export class WorkerQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(WorkerQueue.name);
  readonly redis: RedisClient;
  readonly shards: QueueShards;
  /** One per shard, in shard order. */
  readonly handles: ShardHandle[];
  /** Stops the worker on a mismatch: it would consume the wrong shards and look up jobs in the wrong ones. */
  private readonly shardCount: ShardCountCheck;

  constructor(env: Environment) {
    this.shards = QueueShards.fromEnvironment(env);
    this.redis = createRedisClient(env, 'worker', { name: 'worker' });
    this.redis.on('error', (error: Error) => this.logger.warn(`Redis connection: ${error.message}`));
    checkRedisServer(this.redis, this.logger);
    this.handles = openShards(this.shards, this.redis, {
      goneRetentionMs: env.JOB_GONE_RETENTION_SECONDS * 1000,
      onError: (error) => this.logger.warn(`Queue: ${error.message}`),
    });
    this.shardCount = new ShardCountCheck(this.redis, this.shards, exitOnShardCountMismatch(this.logger));
    this.redis.on('ready', () => {
      void this.shardCount.verified().catch(() => undefined);
      if (isCluster(this.redis) && this.shards.count > 1) {
        try {
          this.logShardPlacement();
        } catch (error) {
          this.logger.warn(`Could not tell where the shards are: ${error instanceof Error ? error.message : error}`);
        }
      }
    });
  }

  /** The home shard: its keys are the service-wide ones (sweep lease, cancel channel). */
  get home(): ShardHandle {
    return this.handles[this.shards.home.index];
  }

  /** The handle of the shard holding the job with this instance id. */
  handleOf(instanceId: string): ShardHandle {
    return this.handles[this.shards.forJob(instanceId).index];
  }

  /**
   * Resolves once the shard count is verified, asking again every second while Redis fails
   * the check (it never rejects). Whatever reads or writes a job by its shard waits for it:
   * with a wrong count, a job's id would lead to the wrong shard.
   */
  async whenShardCountVerified(): Promise<void> {
    for (;;) {
      try {
        return await this.shardCount.verified();
      } catch (error) {
        this.logger.warn(`Could not check the shard count: ${error instanceof Error ? error.message : error}`);
        await sleep(SHARD_CHECK_RETRY_MS, undefined, { ref: false });
      }
    }
  }

  /**
   * Says which master serves each shard's slot, and warns when shards share one: they are
   * then no more capacity than one queue (a cluster with fewer masters than shards, or
   * whose slots were not split evenly).
   */
  private logShardPlacement(): void {
    const placement = this.handles.map(({ shard }) => {
      const node = masterConnection(this.redis, shard.toKey('id'));
      return { prefix: shard.prefix, slot: keySlot(shard.prefix), master: `${node.options.host}:${node.options.port}` };
    });
    this.logger.log(`Shards: ${placement.map((each) => `${each.prefix} slot ${each.slot} on ${each.master}`).join(', ')}`);
    const masters = new Set(placement.map((each) => each.master));
    if (masters.size < placement.length) {
      this.logger.warn(`The ${placement.length} shards share ${masters.size} master(s): sharding adds no capacity beyond one queue per master`);
    }
  }

  /**
   * Whether the master of every shard accepts a write within `timeoutMs`: a replica or a
   * demoted master refuses it, and a cluster node behind REDIS_URL answers MOVED. This
   * connection waits through outages, hence the deadline.
   */
  async writable(timeoutMs = 1000): Promise<boolean> {
    if (this.redis.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
    const probe = Promise.all(this.handles.map(({ keys }) => this.redis.del(keys.readinessProbe))).then(
      () => true,
      () => false,
    );
    return Promise.race([probe, deadline]).finally(() => clearTimeout(timer));
  }

  /**
   * Jobs per state over all shards and the age of the next in line, for the metrics.
   * Refused at once while disconnected: this connection would otherwise hold the command
   * until Redis is back.
   */
  async queueCounts(): Promise<QueueCounts> {
    if (this.redis.status !== 'ready') throw new Error(`Redis is not connected (status ${this.redis.status})`);
    return sumQueueCounts(await Promise.all(this.handles.map((handle) => handle.counts.read())));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.handles.map((handle) => handle.queue.close().catch(() => undefined)));
    this.redis.disconnect();
  }
}
