import type { Queue } from 'bullmq';
import { bookkeepingKeys, TERMINATE_FIELD, TERMINATED_FIELD, type BookkeepingKeys, type TerminationRecord } from './bookkeeping-keys';
import { decodeGoneRecord, GONE_RECORD_LUA, type GoneRecord } from './gone-record';
import type { RedisClient } from './redis-connections';

/**
 * The transitions that change a job's fate outside BullMQ's own worker loop: listing it,
 * terminating it, purging it, expiring it. Each is one Lua script, so the check of the
 * job's state and the change it decides are one atomic step: a job that completes or
 * fails while a client cancels it keeps its own end, and a sweep racing a purge cannot
 * relabel the purge. They are also idempotent: run twice, the second run finds nothing
 * left to do.
 *
 * Every key touched lies under the queue's prefix (Redis Cluster needs them in one slot:
 * give the queue a hash-tagged prefix). Fixed keys come in KEYS; only the per-owner
 * index and the job's sub-keys (':lock', ':logs', …) are derived inside, from the job's
 * own data or key, as BullMQ's own scripts do.
 */

/** Checks whether a caller may see a job or its record: ARGV holds '' for an admin. */
const VISIBILITY_LUA = `
local function visible(visibleTo, owner)
  return visibleTo == '' or owner == visibleTo
end

local function goneOrNone(goneKey, visibleTo)
  local record = redis.call('HGETALL', goneKey)
  if #record == 0 or not visible(visibleTo, redis.call('HGET', goneKey, 'owner')) then return {'none'} end
  return {'gone', record}
end
`;

/** Deletes a finished job and what indexes it, and leaves its gone record. */
const REMOVE_FINISHED_LUA = `
local function removeFinishedJob(jobKey, id, finishedSet, indexKey, ownerIndexPrefix, goneKey, kind, now, ttlMs)
  local owner, fingerprint = jobFacts(redis.call('HGET', jobKey, 'data'))
  redis.call('ZREM', finishedSet, id)
  -- The keys BullMQ's removeJobKeys deletes, and a lock in case one was left behind.
  redis.call('DEL', jobKey, jobKey .. ':logs', jobKey .. ':dependencies', jobKey .. ':processed',
    jobKey .. ':failed', jobKey .. ':unsuccessful', jobKey .. ':lock')
  leaveGoneRecord(goneKey, kind, now, owner, fingerprint, ttlMs)
  redis.call('ZREM', indexKey, id)
  if owner then redis.call('ZREM', ownerIndexPrefix .. owner, id) end
end
`;

/**
 * Puts existing jobs in the creation-time indexes, each scored by its own timestamp; a
 * job that does not exist (its add failed, or it is already removed) is not indexed, so
 * the indexes never hold an entry nothing will clear. NX keeps a repeated submit's place.
 * Answers, per job, 1 when it was indexed (it exists), else 0. The jobs' own keys are
 * built from prefixes, as the other scripts build owner index keys: a fixed key count
 * keeps the index key first, which is where ioredis's automatic pipelining on a cluster
 * reads the slot from (every key of a shard shares its hash tag).
 *   KEYS: index   ARGV: job key prefix, owner index prefix, then job id and owner per job
 */
const INDEX_SCRIPT = `
local indexed = {}
for i = 3, #ARGV, 2 do
  local id, owner = ARGV[i], ARGV[i + 1]
  local createdAt = redis.call('HGET', ARGV[1] .. id, 'timestamp')
  if createdAt then
    redis.call('ZADD', KEYS[1], 'NX', createdAt, id)
    redis.call('ZADD', ARGV[2] .. owner, 'NX', createdAt, id)
    indexed[#indexed + 1] = 1
  else
    indexed[#indexed + 1] = 0
  end
end
return indexed
`;

/** Most jobs one index script call takes; more wait for the next call. */
const INDEX_BATCH = 256;

interface PendingIndex {
  jobId: string;
  owner: string;
  resolve: (indexed: boolean) => void;
  reject: (error: unknown) => void;
}

/** True when a job's stored data asks for a callback when the job ends. */
const CALLBACK_LUA = `
local function hasCallback(rawData)
  if not rawData then return false end
  local ok, data = pcall(cjson.decode, rawData)
  return ok and type(data) == 'table' and type(data.callbackUrl) == 'string'
end
`;

/**
 * Terminates a job, deciding from its state at this very moment:
 * - no job: its gone record ('gone') or nothing ('none');
 * - completed or failed: 'ended' with which, untouched;
 * - not started, or waiting for a retry, and not locked: it leaves its list and ends as
 *   BullMQ ends a failed job (failed set scored by finishedOn, finishedOn, failedReason,
 *   a 'failed' event in the trimmed stream, so waiters wake), plus the field saying it
 *   ended by termination: 'terminated'. A job with a callback enters the webhook outbox
 *   in the same step, so its delivery cannot be lost to a crash after the end;
 * - running: the request is stored on the job and published to the workers: 'requested'.
 *   KEYS: job, gone, wait, paused, active, prioritized, delayed, waiting-children,
 *         completed, failed, events, meta, webhook outbox
 *   ARGV: job id, owner the caller may see ('' for any), now, {"reason","at"} JSON,
 *         failedReason, cancel channel, cancel message
 */
const TERMINATE_SCRIPT = `
${GONE_RECORD_LUA}
${VISIBILITY_LUA}
${CALLBACK_LUA}
local jobKey, id, visibleTo, now = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', jobKey) == 0 then return goneOrNone(KEYS[2], visibleTo) end
if not visible(visibleTo, (jobFacts(redis.call('HGET', jobKey, 'data')))) then return {'none'} end
if redis.call('ZSCORE', KEYS[9], id) then return {'ended', 'completed'} end
if redis.call('ZSCORE', KEYS[10], id) then
  if redis.call('HEXISTS', jobKey, '${TERMINATED_FIELD}') == 1 then return {'ended', 'terminated'} end
  return {'ended', 'failed'}
end
local from = false
if redis.call('EXISTS', jobKey .. ':lock') == 0 and not redis.call('LPOS', KEYS[5], id) then
  if redis.call('ZREM', KEYS[7], id) == 1 then from = 'delayed'
  elseif redis.call('ZREM', KEYS[6], id) == 1 then from = 'prioritized'
  elseif redis.call('ZREM', KEYS[8], id) == 1 then from = 'waiting-children'
  elseif redis.call('LREM', KEYS[3], 1, id) == 1 then from = 'waiting'
  elseif redis.call('LREM', KEYS[4], 1, id) == 1 then from = 'waiting' end
end
if not from then
  redis.call('HSET', jobKey, '${TERMINATE_FIELD}', ARGV[4])
  redis.call('PUBLISH', ARGV[6], ARGV[7])
  return {'requested'}
end
redis.call('ZADD', KEYS[10], now, id)
redis.call('HSET', jobKey, 'finishedOn', now, 'failedReason', ARGV[5], '${TERMINATED_FIELD}', ARGV[4])
redis.call('HDEL', jobKey, 'defa')
local maxEvents = redis.call('HGET', KEYS[12], 'opts.maxLenEvents') or 10000
redis.call('XADD', KEYS[11], 'MAXLEN', '~', maxEvents, '*', 'event', 'failed', 'jobId', id,
  'failedReason', ARGV[5], 'prev', from)
if hasCallback(redis.call('HGET', jobKey, 'data')) then redis.call('ZADD', KEYS[13], now, id) end
return {'terminated'}
`;

/**
 * Purges a finished job: 'purged'; 'running' while it has not ended; its record ('gone')
 * or nothing ('none') when it is not there.
 *   KEYS: job, gone, completed, failed, index
 *   ARGV: job id, owner the caller may see ('' for any), now, gone-record TTL ms, owner index prefix
 */
const PURGE_SCRIPT = `
${GONE_RECORD_LUA}
${VISIBILITY_LUA}
${REMOVE_FINISHED_LUA}
local jobKey, id, visibleTo = KEYS[1], ARGV[1], ARGV[2]
if redis.call('EXISTS', jobKey) == 0 then return goneOrNone(KEYS[2], visibleTo) end
if not visible(visibleTo, (jobFacts(redis.call('HGET', jobKey, 'data')))) then return {'none'} end
local finishedSet = false
if redis.call('ZSCORE', KEYS[3], id) then finishedSet = KEYS[3]
elseif redis.call('ZSCORE', KEYS[4], id) then finishedSet = KEYS[4] end
if not finishedSet then return {'running'} end
removeFinishedJob(jobKey, id, finishedSet, KEYS[5], ARGV[5], KEYS[2], 'purged', ARGV[3], ARGV[4])
return {'purged'}
`;

/**
 * Expires a job whose retention has passed: only if it is still in that finished set with
 * a score (finishedOn) at or before the cutoff; a job purged meanwhile keeps its 'purged'
 * record. An entry whose job hash has vanished is dropped. A job still in the webhook
 * outbox is kept until its delivery is queued: the delivery is built from the job. Answers
 * 1 when it expired the job, -1 when it kept it for its webhook (it stays in the set), 0
 * otherwise.
 *   KEYS: job, gone, finished set, index, webhook outbox
 *   ARGV: job id, cutoff ms, now, gone-record TTL ms, owner index prefix
 */
const EXPIRE_SCRIPT = `
${GONE_RECORD_LUA}
${REMOVE_FINISHED_LUA}
local jobKey, id = KEYS[1], ARGV[1]
local finishedOn = redis.call('ZSCORE', KEYS[3], id)
if not finishedOn or tonumber(finishedOn) > tonumber(ARGV[2]) then return 0 end
if redis.call('EXISTS', jobKey) == 0 then
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
  return 0
end
if redis.call('ZSCORE', KEYS[5], id) then return -1 end
removeFinishedJob(jobKey, id, KEYS[3], KEYS[4], ARGV[5], KEYS[2], 'expired', ARGV[3], ARGV[4])
return 1
`;

/**
 * Records on a running job that it ends by termination, only while this worker still
 * holds its lock (a worker that lost the job must not write on it).
 *   KEYS: job, job lock   ARGV: lock token, {"reason","at"} JSON
 */
const RECORD_TERMINATION_SCRIPT = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], '${TERMINATED_FIELD}', ARGV[2])
return 1
`;

type Reply = [string, ...unknown[]];

interface LifecycleCommands {
  reportJobIndex(...keysAndArgs: string[]): Promise<number[]>;
  reportJobTerminate(...keysAndArgs: string[]): Promise<Reply>;
  reportJobPurge(...keysAndArgs: string[]): Promise<Reply>;
  reportJobExpire(...keysAndArgs: string[]): Promise<number>;
  reportJobRecordTermination(...keysAndArgs: string[]): Promise<number>;
}

const COMMANDS: Record<keyof LifecycleCommands, { numberOfKeys: number; lua: string }> = {
  reportJobIndex: { numberOfKeys: 1, lua: INDEX_SCRIPT },
  reportJobTerminate: { numberOfKeys: 13, lua: TERMINATE_SCRIPT },
  reportJobPurge: { numberOfKeys: 5, lua: PURGE_SCRIPT },
  reportJobExpire: { numberOfKeys: 5, lua: EXPIRE_SCRIPT },
  reportJobRecordTermination: { numberOfKeys: 2, lua: RECORD_TERMINATION_SCRIPT },
};

/** How a finished job ended, as the terminate script tells it. */
export type JobEnd = 'completed' | 'failed' | 'terminated';

export type TerminateOutcome =
  | { outcome: 'terminated' }
  | { outcome: 'requested' }
  | { outcome: 'ended'; end: JobEnd }
  | { outcome: 'gone'; record: GoneRecord }
  | { outcome: 'none' };

export type PurgeOutcome = { outcome: 'purged' } | { outcome: 'running' } | { outcome: 'gone'; record: GoneRecord } | { outcome: 'none' };

export class JobLifecycle {
  private readonly keys: BookkeepingKeys;
  private readonly commands: LifecycleCommands;
  /** index() calls of this turn of the event loop, sent together (flushIndex). */
  private readonly pendingIndex: PendingIndex[] = [];

  /**
   * @param goneRetentionMs how long the record of a purged or expired job lasts
   *   (JOB_GONE_RETENTION_SECONDS)
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly queue: Queue,
    private readonly goneRetentionMs: number,
  ) {
    for (const [name, definition] of Object.entries(COMMANDS)) {
      if (!(name in redis)) redis.defineCommand(name, definition);
    }
    this.commands = redis as unknown as LifecycleCommands;
    this.keys = bookkeepingKeys(queue);
  }

  /**
   * Indexes the job by creation time, if it exists. True when it does. Jobs indexed in the
   * same turn of the event loop (concurrent submits) share one script call: under load
   * that halves the scripts Redis runs per submit.
   */
  index(jobId: string, owner: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      // After every promise continuation of this turn has run, so that they join the batch.
      if (this.pendingIndex.length === 0) process.nextTick(() => this.flushIndex());
      this.pendingIndex.push({ jobId, owner, resolve, reject });
    });
  }

  private flushIndex(): void {
    while (this.pendingIndex.length > 0) {
      const batch = this.pendingIndex.splice(0, INDEX_BATCH);
      const jobs = batch.flatMap(({ jobId, owner }) => [jobId, owner]);
      this.commands.reportJobIndex(this.keys.index, this.queue.toKey(''), this.keys.ownerIndex(''), ...jobs).then(
        (indexed) => batch.forEach((entry, i) => entry.resolve(indexed[i] === 1)),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      );
    }
  }

  /**
   * Terminates the job in one atomic step (see TERMINATE_SCRIPT). `visibleTo` is the
   * caller's principal, or undefined for an admin: another principal's job is 'none'.
   */
  async terminate(jobId: string, visibleTo: string | undefined, reason: string, now: number): Promise<TerminateOutcome> {
    const k = this.queue.keys;
    const record: TerminationRecord = { reason, at: now };
    const [outcome, detail] = await this.commands.reportJobTerminate(
      this.queue.toKey(jobId),
      this.keys.gone(jobId),
      k.wait,
      k.paused,
      k.active,
      k.prioritized,
      k.delayed,
      k['waiting-children'],
      k.completed,
      k.failed,
      k.events,
      k.meta,
      this.keys.webhookOutbox,
      jobId,
      visibleTo ?? '',
      String(now),
      JSON.stringify(record),
      terminationMessage(reason),
      this.keys.cancelChannel,
      JSON.stringify({ instanceId: jobId, reason }),
    );
    switch (outcome) {
      case 'terminated':
      case 'requested':
      case 'none':
        return { outcome };
      case 'ended':
        return { outcome, end: detail as JobEnd };
      case 'gone':
        return { outcome, record: decodeGoneRecord(jobId, detail as string[]) };
      default:
        throw new Error(`Unexpected answer of the terminate script: ${outcome}`);
    }
  }

  /** Purges a finished job in one atomic step (see PURGE_SCRIPT). */
  async purge(jobId: string, visibleTo: string | undefined, now: number): Promise<PurgeOutcome> {
    const [outcome, detail] = await this.commands.reportJobPurge(
      this.queue.toKey(jobId),
      this.keys.gone(jobId),
      this.queue.keys.completed,
      this.queue.keys.failed,
      this.keys.index,
      jobId,
      visibleTo ?? '',
      String(now),
      String(this.goneRetentionMs),
      this.keys.ownerIndex(''),
    );
    switch (outcome) {
      case 'purged':
      case 'running':
      case 'none':
        return { outcome };
      case 'gone':
        return { outcome, record: decodeGoneRecord(jobId, detail as string[]) };
      default:
        throw new Error(`Unexpected answer of the purge script: ${outcome}`);
    }
  }

  /**
   * Expires the given jobs of a finished set (completed or failed) that finished at or
   * before `cutoff`, in one round trip. Answers how many it expired.
   */
  async expire(jobIds: string[], finishedSet: string, cutoff: number, now: number): Promise<number> {
    return (await this.expireBatch(jobIds, finishedSet, cutoff, now)).expired;
  }

  /**
   * As expire(), and how many of the jobs were kept for their webhook: those stay in the
   * finished set, where a sweep paging through it must read past them.
   */
  async expireBatch(jobIds: string[], finishedSet: string, cutoff: number, now: number): Promise<{ expired: number; kept: number }> {
    if (jobIds.length === 0) return { expired: 0, kept: 0 };
    const pipeline = this.redis.pipeline();
    const batch = pipeline as unknown as LifecycleCommands;
    for (const id of jobIds) {
      void batch.reportJobExpire(
        this.queue.toKey(id),
        this.keys.gone(id),
        finishedSet,
        this.keys.index,
        this.keys.webhookOutbox,
        id,
        String(cutoff),
        String(now),
        String(this.goneRetentionMs),
        this.keys.ownerIndex(''),
      );
    }
    const replies = (await pipeline.exec()) ?? [];
    let expired = 0;
    let kept = 0;
    for (const [error, reply] of replies) {
      if (error) throw error;
      if (Number(reply) === 1) expired++;
      else if (Number(reply) === -1) kept++;
    }
    return { expired, kept };
  }

  /**
   * Records that a running job ends by termination, if the worker holding `token` still
   * holds it. Called just before the worker fails the aborted attempt.
   */
  async recordTermination(jobId: string, token: string, record: TerminationRecord): Promise<boolean> {
    const jobKey = this.queue.toKey(jobId);
    return (await this.commands.reportJobRecordTermination(jobKey, `${jobKey}:lock`, token, JSON.stringify(record))) === 1;
  }
}

/** How the error of a job that ended by termination begins. */
export const TERMINATION_MESSAGE_PREFIX = 'Terminated: ';

/** The failedReason of a job that ended by termination, as the terminate script and the worker both write it. */
export function terminationMessage(reason: string): string {
  return `${TERMINATION_MESSAGE_PREFIX}${reason}`;
}
