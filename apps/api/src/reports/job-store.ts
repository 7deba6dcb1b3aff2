import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Environment } from '@report-jobs/config';
import { REPORT_JOB_NAME, REPORTS_QUEUE, reportJobOptions, type ReportJobData } from '@report-jobs/contract';
import {
  bookkeepingKeys,
  checkEvictionPolicy,
  classifyRedisError,
  createProducerConnection,
  JobSnapshotReader,
  QueueCountsReader,
  TERMINATE_FIELD,
  type BookkeepingKeys,
  type JobLookup,
  type JobSnapshot,
  type QueueCounts,
} from '@report-jobs/queue';
import { queueTelemetry } from '@report-jobs/tracing';
import { ServiceUnavailableError } from '../http/problem-details';

/** Marks a running job for termination and tells the workers, only if the job still exists. */
const REQUEST_TERMINATION_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1
`;

interface TerminationCommand {
  reportJobRequestTermination(...keysAndArgs: string[]): Promise<number>;
}

/** Adds requests to a fixed window's count; the key expires with its window. */
const ADD_REQUESTS_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return count
`;

/** Puts a job in the creation-time indexes; NX keeps a repeated submit's first place. */
const INDEX_JOB_SCRIPT = `
redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[2])
return 1
`;

interface CountCommand {
  reportJobAddRequests(key: string, increment: number, windowMs: number): Promise<number>;
}

interface IndexCommand {
  reportJobIndex(index: string, ownerIndex: string, createdAt: number, instanceId: string): Promise<number>;
}

/** One entry of the creation-time index. */
export interface IndexEntry {
  id: string;
  createdAt: number;
}

/**
 * The API's only door to Redis: adds, reads, terminates and purges jobs, and pages
 * through the creation-time index. It runs no worker. A Redis outage leaves here as
 * ServiceUnavailableError (503), after being logged; any other Redis error as a fault (500).
 */
@Injectable()
export class JobStore implements OnApplicationShutdown {
  private readonly logger = new Logger(JobStore.name);
  private readonly redis: Redis;
  private readonly queue: Queue<ReportJobData>;
  private readonly reader: JobSnapshotReader;
  private readonly countsReader: QueueCountsReader;
  private readonly keys: BookkeepingKeys;
  private secretValue?: Promise<Buffer>;

  constructor(private readonly env: Environment) {
    this.redis = createProducerConnection(env.REDIS_URL);
    // Without listeners, an 'error' event would crash the process during an outage.
    this.redis.on('error', (error) => this.logger.warn(`Redis connection: ${error.message}`));
    checkEvictionPolicy(this.redis, this.logger);
    this.redis.defineCommand('reportJobRequestTermination', { numberOfKeys: 2, lua: REQUEST_TERMINATION_SCRIPT });
    this.redis.defineCommand('reportJobAddRequests', { numberOfKeys: 1, lua: ADD_REQUESTS_SCRIPT });
    this.redis.defineCommand('reportJobIndex', { numberOfKeys: 2, lua: INDEX_JOB_SCRIPT });
    this.queue = new Queue<ReportJobData>(REPORTS_QUEUE, { connection: this.redis, telemetry: queueTelemetry() });
    this.queue.on('error', (error) => this.logger.warn(`Queue: ${error.message}`));
    this.reader = new JobSnapshotReader(this.redis, this.queue);
    this.countsReader = new QueueCountsReader(this.redis, this.queue);
    this.keys = bookkeepingKeys(this.queue);
  }

  /**
   * Resolves once Redis has acknowledged the job; the job is then durably queued. A job
   * id that already exists is left as it is (BullMQ ignores the duplicate atomically),
   * which is what makes idempotent submits safe under concurrency.
   */
  async add(instanceId: string, data: ReportJobData, createdAt: number): Promise<void> {
    const options = reportJobOptions(instanceId, createdAt, {
      attempts: this.env.JOB_ATTEMPTS,
      backoffMs: this.env.JOB_BACKOFF_MS,
    });
    const indexing = this.redis as unknown as IndexCommand;
    await this.guard('add a job', async () => {
      // The index is written alongside, in the same round trip time; listing skips entries
      // whose job never made it, so no order between the two is needed.
      await Promise.all([
        this.queue.add(REPORT_JOB_NAME, data, options),
        indexing.reportJobIndex(this.keys.index, this.keys.ownerIndex(data.owner), createdAt, instanceId),
      ]);
    });
  }

  lookup(instanceId: string): Promise<JobLookup> {
    return this.guard('read a job', () => this.reader.lookup(instanceId));
  }

  lookupMany(instanceIds: string[]): Promise<JobLookup[]> {
    return this.guard('read jobs', () => this.reader.lookupMany(instanceIds));
  }

  /** The deployment's secret for deriving instance ids from idempotency keys, made once and shared in Redis. */
  idempotencySecret(): Promise<Buffer> {
    this.secretValue ??= this.guard('read the idempotency secret', async () => {
      await this.redis.set(this.keys.secret, randomBytes(32).toString('hex'), 'NX');
      return Buffer.from((await this.redis.get(this.keys.secret))!, 'hex');
    }).catch((error: unknown) => {
      this.secretValue = undefined;
      throw error;
    });
    return this.secretValue;
  }

  /**
   * Terminates a job that no worker holds: leaves a Terminated record in its place and
   * removes it from the queue. Answers false when a worker took the job meanwhile.
   */
  async terminateQueued(job: JobSnapshot, owner: string, reason: string, now: number): Promise<boolean> {
    const visibleUntil = now + this.env.JOB_RETENTION_FAILED_SECONDS * 1000;
    const record = {
      kind: 'terminated',
      at: String(now),
      visibleUntil: String(visibleUntil),
      reason,
      data: JSON.stringify(job.data),
      timestamp: String(job.timestamp),
      attempt: String(Math.max(job.attemptsStarted, job.attemptsMade)),
      maxAttempts: String(job.maxAttempts),
      owner,
    };
    return this.guard('terminate a job', async () => {
      const goneKey = this.keys.gone(job.id);
      await this.redis
        .multi()
        .hset(goneKey, record)
        .pexpire(goneKey, visibleUntil - now + this.env.JOB_GONE_RETENTION_SECONDS * 1000)
        .zadd(this.keys.terminated, visibleUntil, job.id)
        .exec();
      // BullMQ's remove answers 0 when the job is locked by a worker.
      if ((await this.queue.remove(job.id)) === 1) return true;
      await this.redis.multi().del(goneKey).zrem(this.keys.terminated, job.id).exec();
      return false;
    });
  }

  /** Asks the worker running the job to abort it. False when the job no longer exists. */
  requestTermination(instanceId: string, reason: string, now: number): Promise<boolean> {
    const command = this.redis as unknown as TerminationCommand;
    return this.guard('request termination', async () => {
      const answer = await command.reportJobRequestTermination(
        this.queue.toKey(instanceId),
        this.keys.cancelChannel,
        TERMINATE_FIELD,
        JSON.stringify({ reason, at: now }),
        JSON.stringify({ instanceId, reason }),
      );
      return answer === 1;
    });
  }

  /** Deletes a finished job (or a terminated job's record), leaving a 'purged' record for 410s. */
  async purge(instanceId: string, owner: string, now: number): Promise<void> {
    await this.guard('purge a job', async () => {
      const goneKey = this.keys.gone(instanceId);
      await this.redis
        .multi()
        .del(goneKey)
        .hset(goneKey, { kind: 'purged', at: String(now), owner })
        .pexpire(goneKey, this.env.JOB_GONE_RETENTION_SECONDS * 1000)
        .zrem(this.keys.terminated, instanceId)
        .zrem(this.keys.index, instanceId)
        .zrem(this.keys.ownerIndex(owner), instanceId)
        .exec();
      await this.queue.remove(instanceId);
    });
  }

  /**
   * Index entries created in [from, to], in creation order, after `after` (the last entry
   * of the previous page), at most `count` of them.
   */
  indexPage(owner: string | undefined, from: number, to: number, after: IndexEntry | undefined, count: number): Promise<IndexEntry[]> {
    const key = owner === undefined ? this.keys.index : this.keys.ownerIndex(owner);
    return this.guard('list jobs', async () => {
      const entries: IndexEntry[] = [];
      const min = after ? Math.max(after.createdAt, from) : from;
      // Entries of equal time come in id order; skip those up to the cursor's id.
      for (let offset = 0; entries.length < count; offset += count) {
        const flat = await this.redis.zrangebyscore(key, min, to, 'WITHSCORES', 'LIMIT', offset, count);
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const entry = { id: flat[i], createdAt: Number(flat[i + 1]) };
          const seen = after && (entry.createdAt < after.createdAt || (entry.createdAt === after.createdAt && entry.id <= after.id));
          if (!seen && entries.length < count) entries.push(entry);
        }
        if (flat.length < count * 2) break;
      }
      return entries;
    });
  }

  /**
   * Adds `increment` requests of `principal` in `bucket` to the fixed window starting at
   * `windowStart`, shared by every API replica; answers the window's total so far.
   */
  addRequests(bucket: string, principal: string, windowStart: number, windowMs: number, increment: number): Promise<number> {
    const command = this.redis as unknown as CountCommand;
    const key = this.queue.toKey(`rj:rate:${bucket}:${principal}:${windowStart}`);
    return this.guard('count requests', () => command.reportJobAddRequests(key, increment, windowMs));
  }

  /** Jobs per state and the age of the next in line, for the metrics (O(1), one round trip). */
  queueCounts(): Promise<QueueCounts> {
    return this.guard('count the queue', () => this.countsReader.read());
  }

  /** Resolves when Redis answers PING (within the connection's command timeout). */
  async ping(): Promise<void> {
    await this.guard('ping Redis', () => this.redis.ping());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
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
      return await operation();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const failure = classifyRedisError(error);
      if (failure === 'unexpected') throw new Error(`Could not ${what}: ${message}`, { cause: error });
      this.logger.warn(`Could not ${what} (${failure}): ${message}`);
      throw new ServiceUnavailableError(message, failure === 'no-answer');
    }
  }
}
