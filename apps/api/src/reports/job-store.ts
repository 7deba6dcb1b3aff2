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
  JobLifecycle,
  JobSnapshotReader,
  QueueCountsReader,
  type BookkeepingKeys,
  type JobLookup,
  type PurgeOutcome,
  type QueueCounts,
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
  private readonly lifecycle: JobLifecycle;
  private readonly keys: BookkeepingKeys;
  private secretValue?: Promise<Buffer>;

  constructor(private readonly env: Environment) {
    this.redis = createProducerConnection(env.REDIS_URL);
    // Without listeners, an 'error' event would crash the process during an outage.
    this.redis.on('error', (error) => this.logger.warn(`Redis connection: ${error.message}`));
    checkEvictionPolicy(this.redis, this.logger);
    this.redis.defineCommand('reportJobAddRequests', { numberOfKeys: 1, lua: ADD_REQUESTS_SCRIPT });
    this.queue = new Queue<ReportJobData>(REPORTS_QUEUE, { connection: this.redis, telemetry: queueTelemetry() });
    this.queue.on('error', (error) => this.logger.warn(`Queue: ${error.message}`));
    this.reader = new JobSnapshotReader(this.redis, this.queue);
    this.countsReader = new QueueCountsReader(this.redis, this.queue);
    this.lifecycle = new JobLifecycle(this.redis, this.queue, env.JOB_GONE_RETENTION_SECONDS * 1000);
    this.keys = bookkeepingKeys(this.queue);
  }

  /**
   * Resolves once Redis has acknowledged the job; the job is then durably queued. A job
   * id that already exists is left as it is (BullMQ ignores the duplicate atomically),
   * which is what makes idempotent submits safe under concurrency. The job is indexed for
   * listing once Redis has it: an add that failed leaves no index entry behind.
   */
  async add(instanceId: string, data: ReportJobData, createdAt: number): Promise<void> {
    const options = reportJobOptions(instanceId, createdAt, {
      attempts: this.env.JOB_ATTEMPTS,
      backoffMs: this.env.JOB_BACKOFF_MS,
    });
    let acknowledged = false;
    try {
      await this.guard('add a job', async () => {
        await this.queue.add(REPORT_JOB_NAME, data, options);
        acknowledged = true;
        await this.lifecycle.index(instanceId, data.owner);
      });
    } catch (error) {
      // Once Redis acknowledged the add the job is queued, whatever became of its indexing.
      if (acknowledged && error instanceof ServiceUnavailableError) throw new ServiceUnavailableError(error.message, true);
      throw error;
    }
  }

  /** Indexes a job that exists for listing (again: entries are never duplicated). */
  async index(instanceId: string, owner: string): Promise<void> {
    await this.guard('index a job', () => this.lifecycle.index(instanceId, owner));
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
   * Terminates a job in one atomic step, whatever state it is in by then. `visibleTo` is
   * the caller's principal (undefined for an admin): another principal's job is 'none'.
   */
  terminate(instanceId: string, visibleTo: string | undefined, reason: string, now: number): Promise<TerminateOutcome> {
    return this.guard('terminate a job', () => this.lifecycle.terminate(instanceId, visibleTo, reason, now));
  }

  /** Purges a finished job in one atomic step, leaving a 'purged' record for 410s. */
  purge(instanceId: string, visibleTo: string | undefined, now: number): Promise<PurgeOutcome> {
    return this.guard('purge a job', () => this.lifecycle.purge(instanceId, visibleTo, now));
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
