import type { Queue } from 'bullmq';
import type { WebhookDeliveryRecord } from '@report-jobs/contract';
import { bookkeepingKeys, WEBHOOK_FIELD } from './bookkeeping-keys';
import type { RedisClient } from './redis-connections';

/**
 * The webhook outbox: how a job's end and the queueing of its delivery are tied together so
 * that a crash between them loses nothing (at-least-once).
 *
 * A job with a callback enters the outbox before or with its end: the worker adds it just
 * before the attempt that ends the job returns (BullMQ's own script then ends it), the
 * terminate script adds it in the same atomic step that ends a queued job. It leaves only
 * once its delivery is queued and marked on the job ('pending'), or when there is nothing
 * to deliver (no job any more). Whoever relays an entry (the worker that ended the job, at
 * once; any worker's poll, later) takes the same idempotent steps: read the job; queue the
 * delivery under an id derived from the job's end, which BullMQ adds only once; mark and
 * leave. An entry whose job has not ended yet (its worker died before ending it) is looked
 * at again later; the job's next end relays it.
 *
 * The delivery's state lives on the job's own hash (WEBHOOK_FIELD), so it goes when the job
 * goes and the status read gets it in its one round trip. Writes to it never create a hash
 * for a job that is gone.
 *
 * Each shard has its outbox, under the shard's prefix: the job-lifecycle scripts that end a
 * job enter it in the same step, and on a Redis Cluster a script's keys must share a slot.
 * Whoever relays reads every shard's outbox.
 */

/** Writes the delivery state, only on a job that still exists. KEYS: job  ARGV: state JSON */
const WRITE_STATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], '${WEBHOOK_FIELD}', ARGV[1])
return 1
`;

/**
 * The delivery of this job is queued: mark it 'pending' unless an attempt has already
 * written its state, and take the job out of the outbox.
 *   KEYS: job, outbox   ARGV: job id, initial state JSON
 */
const SETTLE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSETNX', KEYS[1], '${WEBHOOK_FIELD}', ARGV[2]) end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

interface OutboxCommands {
  reportJobWebhookState(jobKey: string, state: string): Promise<number>;
  reportJobWebhookSettle(jobKey: string, outbox: string, jobId: string, state: string): Promise<number>;
}

export class WebhookOutbox {
  private readonly outboxKey: string;
  private readonly commands: OutboxCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly queue: Pick<Queue, 'toKey'>,
  ) {
    if (!('reportJobWebhookState' in redis)) redis.defineCommand('reportJobWebhookState', { numberOfKeys: 1, lua: WRITE_STATE_SCRIPT });
    if (!('reportJobWebhookSettle' in redis)) redis.defineCommand('reportJobWebhookSettle', { numberOfKeys: 2, lua: SETTLE_SCRIPT });
    this.commands = redis as unknown as OutboxCommands;
    this.outboxKey = bookkeepingKeys(queue).webhookOutbox;
  }

  /** Puts the job in the outbox, to be looked at from `at` (epoch ms) on; an earlier time already set stands. */
  async enter(jobId: string, at: number): Promise<void> {
    // LT only lowers the score of a member already there, and adds a missing one.
    await this.redis.zadd(this.outboxKey, 'LT', at, jobId);
  }

  /** Jobs due to be looked at by `now`, oldest first, at most `count`. */
  due(now: number, count: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.outboxKey, '-inf', now, 'LIMIT', 0, count);
  }

  /** Looks at a job of the outbox again at `at` (only if it is still there). */
  async postpone(jobId: string, at: number): Promise<void> {
    await this.redis.zadd(this.outboxKey, 'XX', at, jobId);
  }

  /** Takes a job out of the outbox: it has nothing to deliver. */
  async leave(jobId: string): Promise<void> {
    await this.redis.zrem(this.outboxKey, jobId);
  }

  /** The job's delivery is queued: marks it pending (unless an attempt got there first) and takes it out. */
  async settle(jobId: string, initial: WebhookDeliveryRecord): Promise<void> {
    await this.commands.reportJobWebhookSettle(this.queue.toKey(jobId), this.outboxKey, jobId, JSON.stringify(initial));
  }

  /** The delivery state of the job's callback, if its delivery has been queued. */
  async readState(jobId: string): Promise<WebhookDeliveryRecord | undefined> {
    const raw = await this.redis.hget(this.queue.toKey(jobId), WEBHOOK_FIELD);
    return raw ? (JSON.parse(raw) as WebhookDeliveryRecord) : undefined;
  }

  /** Records where the delivery stands; false when the job is gone (nothing is written then). */
  async writeState(jobId: string, state: WebhookDeliveryRecord): Promise<boolean> {
    return (await this.commands.reportJobWebhookState(this.queue.toKey(jobId), JSON.stringify(state))) === 1;
  }
}
