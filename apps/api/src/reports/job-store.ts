import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Environment } from '@report-jobs/config';
import { REPORT_JOB_NAME, reportJobOptions, type ReportJobData } from '@report-jobs/contract';
import {
  checkRedisServer,
  classifyRedisError,
  createRedisClient,
  openShards,
  QueueShards,
  REPLICA_ACK_TIMEOUT_MS,
  replicasAcknowledging,
  exitOnShardCountMismatch,
  ShardCountCheck,
  sumQueueCounts,
  type JobLookup,
  type PurgeOutcome,
  type QueueCounts,
  type RedisClient,
  type ShardHandle,
  type TerminateOutcome,
} from '@report-jobs/queue';
import { queueTelemetry } from '@report-jobs/tracing';
import { ServiceUnavailableError } from '../http/problem-details';

/** Adds requests to a fixed window's count; the key expires with its window. */
const ADD_REQUESTS_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return count
`;

interface CountCommand {
  reportJobAddRequests(key: string, increment: number, windowMs: number): Promise<number>;
}

/** One entry of the creation-time index. */
export interface IndexEntry {
  id: string;
  createdAt: number;
}

/**
 * The API's door to the jobs in Redis: adds, reads, terminates and purges jobs, pages
 * through the creation-time indexes, and keeps the rate counts and readiness probe (only
 * the queue events readers and the dashboard hold connections of their own, for blocking
 * reads and page-sized reads). It runs no worker. Each job lives in one shard (its
 * instance id tells which), so a status read, a cancel or a purge goes to one node in one
 * round trip; listing merges the shards' indexes. A Redis outage leaves here as
 * ServiceUnavailableError (503), after being logged; any other Redis error as a fault (500).
 */
@Injectable()
export class JobStore implements OnApplicationShutdown {
  private readonly logger = new Logger(JobStore.name);
  private readonly shards: QueueShards;
  private readonly redis: RedisClient;
  /** BullMQ's queues of `handles` (see openShards). */
  private readonly queueRedis: RedisClient;
  /** Reads, scripts and rate counts: one handle per shard on `redis`. */
  private readonly handles: ShardHandle[];
  /**
   * Where jobs are added. With REDIS_MIN_REPLICAS_ACK, a connection of its own: WAIT
   * blocks the connection it is sent on until replicas catch up, which must not hold up
   * the status reads queued behind it. Otherwise the same as `redis`.
   */
  private readonly writer: RedisClient;
  private readonly writeHandles: ShardHandle[];
  private secretValue?: Promise<Buffer>;
  /** Stops the API on a mismatch: serving would read and write jobs on the wrong shards. */
  private readonly shardCount: ShardCountCheck;

  constructor(private readonly env: Environment) {
    this.shards = QueueShards.fromEnvironment(env);
    this.redis = this.connect('api');
    checkRedisServer(this.redis, this.logger);
    this.redis.defineCommand('reportJobAddRequests', { numberOfKeys: 1, lua: ADD_REQUESTS_SCRIPT });
    this.queueRedis = this.connect('api-queue');
    this.handles = this.open(this.redis, this.queueRedis);
    this.writer = env.REDIS_MIN_REPLICAS_ACK > 0 ? this.connect('api-writes') : this.redis;
    this.writeHandles = this.writer === this.redis ? this.handles : this.open(this.writer);
    this.shardCount = new ShardCountCheck(this.redis, this.shards, exitOnShardCountMismatch(this.logger));
    // Checked as soon as Redis is reachable (again after a failed check); requests wait for it (see guard).
    this.redis.on('ready', () => void this.shardCount.verified().catch(() => undefined));
  }

  private connect(name: string): RedisClient {
    const client = createRedisClient(this.env, 'producer', { name });
    // Without listeners, an 'error' event would crash the process during an outage.
    client.on('error', (error: Error) => this.logger.warn(`Redis connection: ${error.message}`));
    return client;
  }

  private open(client: RedisClient, queueClient = client): ShardHandle[] {
    const options = {
      goneRetentionMs: this.env.JOB_GONE_RETENTION_SECONDS * 1000,
      telemetry: queueTelemetry(),
      onError: (error: Error) => this.logger.warn(`Queue: ${error.message}`),
    };
    return openShards(this.shards, client, options, queueClient);
  }

  private handleOf(instanceId: string, handles = this.handles): ShardHandle {
    return handles[this.shards.forJob(instanceId).index];
  }

  /**
   * Resolves once Redis has acknowledged the job (and, with REDIS_MIN_REPLICAS_ACK, once
   * that many replicas have it); the job is then durably queued. A job id that already
   * exists is left as it is (BullMQ ignores the duplicate atomically), which is what makes
   * idempotent submits safe under concurrency. The job is indexed for listing once Redis
   * has it: an add that failed leaves no index entry behind.
   */
  async add(instanceId: string, data: ReportJobData, createdAt: number): Promise<void> {
    const options = reportJobOptions(instanceId, createdAt, {
      attempts: this.env.JOB_ATTEMPTS,
      backoffMs: this.env.JOB_BACKOFF_MS,
    });
    const { queue, lifecycle } = this.handleOf(instanceId, this.writeHandles);
    let acknowledged = false;
    try {
      await this.guard('add a job', async () => {
        await queue.add(REPORT_JOB_NAME, data, options);
        acknowledged = true;
        await lifecycle.index(instanceId, data.owner);
        await this.replicated(queue.toKey(instanceId));
      });
    } catch (error) {
      // Once Redis acknowledged the add the job is queued, whatever became of its indexing.
      if (acknowledged && error instanceof ServiceUnavailableError) throw new ServiceUnavailableError(error.message, true);
      throw error;
    }
  }

  /**
   * With REDIS_MIN_REPLICAS_ACK, waits until that many replicas have every write the
   * writer connection made up to now (the job's among them: `key` names the master it went
   * to); a job they did not acknowledge in time may be lost in a failover, so its submit
   * answers 503, saying it may exist.
   */
  private async replicated(key: string): Promise<void> {
    const wanted = this.env.REDIS_MIN_REPLICAS_ACK;
    if (wanted === 0) return;
    const replicas = await replicasAcknowledging(this.writer, key, wanted, REPLICA_ACK_TIMEOUT_MS);
    if (replicas < wanted) {
      throw new ServiceUnavailableError(`${replicas} of ${wanted} replica(s) acknowledged the write within ${REPLICA_ACK_TIMEOUT_MS} ms`, true);
    }
  }

  /** Indexes a job that exists for listing (again: entries are never duplicated). */
  async index(instanceId: string, owner: string): Promise<void> {
    await this.guard('index a job', () => this.handleOf(instanceId).lifecycle.index(instanceId, owner));
  }

  lookup(instanceId: string): Promise<JobLookup> {
    return this.guard('read a job', () => this.handleOf(instanceId).snapshots.lookup(instanceId));
  }

  /** Looks up many jobs: one pipeline per shard, the shards in parallel, answers in the order asked. */
  lookupMany(instanceIds: string[]): Promise<JobLookup[]> {
    return this.guard('read jobs', async () => {
      const byShard = new Map<ShardHandle, number[]>();
      instanceIds.forEach((id, i) => {
        const handle = this.handleOf(id);
        const positions = byShard.get(handle) ?? [];
        positions.push(i);
        byShard.set(handle, positions);
      });
      const found: JobLookup[] = new Array(instanceIds.length);
      await Promise.all(
        [...byShard].map(async ([handle, positions]) => {
          const lookups = await handle.snapshots.lookupMany(positions.map((i) => instanceIds[i]));
          positions.forEach((position, i) => (found[position] = lookups[i]));
        }),
      );
      return found;
    });
  }

  /**
   * The deployment's secret for deriving instance ids from idempotency keys, made once and
   * shared in Redis (in the home shard). Made on the writer connection, so that with
   * REDIS_MIN_REPLICAS_ACK it is replicated before any id derived from it is handed out.
   */
  idempotencySecret(): Promise<Buffer> {
    const key = this.handles[this.shards.home.index].keys.secret;
    this.secretValue ??= this.guard('read the idempotency secret', async () => {
      await this.writer.set(key, randomBytes(32).toString('hex'), 'NX');
      await this.replicated(key);
      return Buffer.from((await this.redis.get(key))!, 'hex');
    }).catch((error: unknown) => {
      this.secretValue = undefined;
      throw error;
    });
    return this.secretValue;
  }

  /**
   * Terminates a job in one atomic step, whatever state it is in by then. `visibleTo` is
   * the caller's principal (undefined for an admin): another principal's job is 'none'.
   */
  terminate(instanceId: string, visibleTo: string | undefined, reason: string, now: number): Promise<TerminateOutcome> {
    return this.guard('terminate a job', () => this.handleOf(instanceId).lifecycle.terminate(instanceId, visibleTo, reason, now));
  }

  /** Purges a finished job in one atomic step, leaving a 'purged' record for 410s. */
  purge(instanceId: string, visibleTo: string | undefined, now: number): Promise<PurgeOutcome> {
    return this.guard('purge a job', () => this.handleOf(instanceId).lifecycle.purge(instanceId, visibleTo, now));
  }

  /**
   * Index entries created in [from, to], in creation order (time, then id), after `after`
   * (the last entry of the previous page), at most `count` of them. Each shard has its
   * own index; the next `count` of each are merged, so a page holds exactly the entries
   * that follow `after` over all shards, and the next page resumes right after its last.
   */
  indexPage(owner: string | undefined, from: number, to: number, after: IndexEntry | undefined, count: number): Promise<IndexEntry[]> {
    return this.guard('list jobs', async () => {
      const pages = await Promise.all(
        this.handles.map(({ keys }) => this.shardIndexPage(owner === undefined ? keys.index : keys.ownerIndex(owner), from, to, after, count)),
      );
      return pages.flat().sort(inCreationOrder).slice(0, count);
    });
  }

  private async shardIndexPage(key: string, from: number, to: number, after: IndexEntry | undefined, count: number): Promise<IndexEntry[]> {
    const entries: IndexEntry[] = [];
    const min = after ? Math.max(after.createdAt, from) : from;
    // Entries of equal time come in id order; skip those up to the cursor's id.
    for (let offset = 0; entries.length < count; offset += count) {
      const flat = await this.redis.zrangebyscore(key, min, to, 'WITHSCORES', 'LIMIT', offset, count);
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const entry = { id: flat[i], createdAt: Number(flat[i + 1]) };
        const seen = after && inCreationOrder(entry, after) <= 0;
        if (!seen && entries.length < count) entries.push(entry);
      }
      if (flat.length < count * 2) break;
    }
    return entries;
  }

  /**
   * Adds `increment` requests of `principal` in `bucket` to the fixed window starting at
   * `windowStart`, shared by every API replica; answers the window's total so far.
   */
  addRequests(bucket: string, principal: string, windowStart: number, windowMs: number, increment: number): Promise<number> {
    const command = this.redis as unknown as CountCommand;
    const key = this.handles[this.shards.home.index].keys.rateCount(bucket, principal, windowStart);
    return this.guard('count requests', () => command.reportJobAddRequests(key, increment, windowMs));
  }

  /** Jobs per state and the age of the next in line over all shards, for the metrics (O(1) per shard, the shards in parallel). */
  queueCounts(): Promise<QueueCounts> {
    return this.guard('count the queue', async () => sumQueueCounts(await Promise.all(this.handles.map((handle) => handle.counts.read()))));
  }

  /**
   * Resolves when the API can use Redis: the master of every shard accepts a write (a
   * replica, or a master demoted by a failover, refuses it; so does a master short of the
   * replicas its min-replicas-to-write asks for), within the connection's command timeout.
   */
  async ping(): Promise<void> {
    for (const client of [this.writer, this.queueRedis]) {
      if (client.status !== 'ready') throw new ServiceUnavailableError(`Redis is not connected (status ${client.status})`);
    }
    try {
      await this.guard('check Redis', async () => {
        await Promise.all(this.handles.map(({ keys }) => this.redis.del(keys.readinessProbe)));
      });
    } catch (error) {
      if (error instanceof ServiceUnavailableError) throw error;
      // Not an outage but a Redis the API cannot use (a cluster node behind REDIS_URL answers
      // MOVED): not ready all the same.
      this.logger.error(`Redis cannot be used: ${error instanceof Error ? error.message : error}`);
      throw new ServiceUnavailableError('Redis cannot be used');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const handles = new Set([...this.handles, ...this.writeHandles]);
    await Promise.all([...handles].map((handle) => handle.queue.close().catch(() => undefined)));
    this.redis.disconnect();
    this.queueRedis.disconnect();
    this.writer.disconnect();
  }

  /**
   * Runs Redis commands, turning an outage into ServiceUnavailableError (503), which says
   * whether the commands may have taken effect. Any other failure is a fault, not an
   * outage: it leaves as an error the problem filter answers 500 and logs with the
   * request id.
   */
  private async guard<T>(what: string, operation: () => Promise<T>): Promise<T> {
    // Until the connection is ready BullMQ would wait for it; answer at once instead.
    if (this.redis.status !== 'ready') {
      throw new ServiceUnavailableError(`Redis is not connected (status ${this.redis.status})`);
    }
    try {
      await this.shardCount.verified();
      return await operation();
    } catch (error) {
      if (error instanceof ServiceUnavailableError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      const failure = classifyRedisError(error);
      if (failure === 'unexpected') throw new Error(`Could not ${what}: ${message}`, { cause: error });
      this.logger.warn(`Could not ${what} (${failure}): ${message}`);
      throw new ServiceUnavailableError(message, failure === 'no-answer');
    }
  }
}

/** Creation order: by time, then by id, as a sorted set orders members of equal score. */
function inCreationOrder(a: IndexEntry, b: IndexEntry): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
