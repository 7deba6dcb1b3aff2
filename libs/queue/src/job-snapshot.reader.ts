import type { Queue } from 'bullmq';
import type { QueueJobState, WebhookDeliveryRecord } from '@report-jobs/contract';
import { bookkeepingKeys, TERMINATE_FIELD, TERMINATED_FIELD, WEBHOOK_FIELD, type TerminationRecord } from './bookkeeping-keys';
import { decodeGoneRecord, type GoneRecord } from './gone-record';
import type { RedisClient } from './redis-connections';

/**
 * One status read = one Redis round trip whose cost does not grow with the backlog.
 *
 * BullMQ's `Job.getState()` scans the whole wait list (LPOS), so the status of the
 * oldest waiting job, the one about to run, gets slower as the queue grows. This
 * script reads the job hash and tests membership only where that is O(1) or O(log n)
 * (the sorted sets, a list's length) or bounded by worker concurrency (the active list). A job that
 * exists and is in none of them can only be waiting: BullMQ moves jobs between these
 * structures inside atomic scripts, so no job is ever between two of them here.
 * When the job is gone, the record left in its place (if any) is returned instead.
 *
 * It relies on BullMQ's key names, hash fields and delayed-score encoding, none of them
 * public API: package.json pins bullmq exactly, and test/e2e/job-snapshot.e2e-spec.ts
 * checks the agreement (states and due times) against BullMQ's own answers.
 */
const SNAPSHOT_SCRIPT = `
local job = redis.call('HGETALL', KEYS[1])
if #job == 0 then
  local gone = redis.call('HGETALL', KEYS[8])
  if #gone == 0 then return {'unknown', gone, false} end
  return {'gone', gone, false}
end
local id = ARGV[1]
if redis.call('ZSCORE', KEYS[2], id) then return {'completed', job, false} end
if redis.call('ZSCORE', KEYS[3], id) then return {'failed', job, false} end
local delayedScore = redis.call('ZSCORE', KEYS[4], id)
if delayedScore then return {'delayed', job, delayedScore} end
if redis.call('ZSCORE', KEYS[5], id) then
  return {'prioritized', job, false, redis.call('LLEN', KEYS[9]) + redis.call('ZCARD', KEYS[5])}
end
if redis.call('LPOS', KEYS[6], id) then return {'active', job, false} end
if redis.call('ZSCORE', KEYS[7], id) then return {'waiting-children', job, false} end
-- How many jobs wait in all (O(1)): an upper bound of those ahead of this one.
return {'waiting', job, false, redis.call('LLEN', KEYS[9]) + redis.call('ZCARD', KEYS[5])}
`;

/** Delayed-set scores carry the due time in milliseconds times 0x1000 (BullMQ's encoding). */
const DELAYED_SCORE_FACTOR = 0x1000;

/** The stored fields of a job that the status payload needs, decoded. */
export interface JobSnapshot {
  id: string;
  state: QueueJobState;
  data: unknown;
  /** Enqueue time, epoch ms. */
  timestamp: number;
  processedOn?: number;
  finishedOn?: number;
  attemptsMade: number;
  attemptsStarted: number;
  maxAttempts: number;
  progress: unknown;
  returnValue: unknown;
  failedReason?: string;
  /** For a delayed job, when it becomes due, epoch ms. */
  dueAt?: number;
  /** Set when a client asked to terminate the job while it ran. */
  terminateRequested?: TerminationRecord;
  /** Set when the job ended by termination (it is then failed): why and when. */
  terminated?: TerminationRecord;
  /** For a waiting job: how many jobs wait in all, itself included (an upper bound of those ahead). */
  waitingCount?: number;
  /** For a job with a callback whose delivery has been queued: where the delivery stands. */
  webhook?: WebhookDeliveryRecord;
}

export type JobLookup = { found: 'job'; job: JobSnapshot } | { found: 'gone'; gone: GoneRecord } | { found: 'none' };

type SnapshotReply = [QueueJobState | 'gone', string[], string | null | false, number?];

interface SnapshotCommand {
  reportJobSnapshot(...keysAndArgs: string[]): Promise<SnapshotReply>;
}

export class JobSnapshotReader {
  private readonly keys: string[];
  private readonly gone: (jobId: string) => string;
  private readonly waitKey: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly queue: Queue,
  ) {
    if (!('reportJobSnapshot' in redis)) {
      redis.defineCommand('reportJobSnapshot', { numberOfKeys: 9, lua: SNAPSHOT_SCRIPT });
    }
    const k = queue.keys;
    this.keys = [k.completed, k.failed, k.delayed, k.prioritized, k.active, k['waiting-children']];
    this.waitKey = k.wait;
    this.gone = bookkeepingKeys(queue).gone;
  }

  /** The job, what is left of it, or nothing. */
  async lookup(jobId: string): Promise<JobLookup> {
    const command = this.redis as unknown as SnapshotCommand;
    const reply = await command.reportJobSnapshot(this.queue.toKey(jobId), ...this.keys, this.gone(jobId), this.waitKey, jobId);
    return decodeLookup(jobId, reply);
  }

  /** Looks up many jobs in one round trip (a pipeline). */
  async lookupMany(jobIds: string[]): Promise<JobLookup[]> {
    if (jobIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    const batch = pipeline as unknown as SnapshotCommand;
    for (const id of jobIds) batch.reportJobSnapshot(this.queue.toKey(id), ...this.keys, this.gone(id), this.waitKey, id);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, reply], i) => {
      if (error) throw error;
      return decodeLookup(jobIds[i], reply as SnapshotReply);
    });
  }

  /** The job's snapshot, or null when it is not in the queue. */
  async read(jobId: string): Promise<JobSnapshot | null> {
    const result = await this.lookup(jobId);
    return result.found === 'job' ? result.job : null;
  }
}

function toMap(flat: string[]): Map<string, string> {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(flat[i], flat[i + 1]);
  return hash;
}

function reader(hash: Map<string, string>) {
  return {
    int(field: string): number | undefined {
      const raw = hash.get(field);
      return raw === undefined || raw === '' ? undefined : Number.parseInt(raw, 10);
    },
    json(field: string): unknown {
      const raw = hash.get(field);
      if (raw === undefined || raw === '') return undefined;
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    },
    text(field: string): string | undefined {
      return hash.get(field) || undefined;
    },
  };
}

function decodeLookup(id: string, [state, flat, delayedScore, waitingCount]: SnapshotReply): JobLookup {
  if (state === 'unknown') return { found: 'none' };
  if (state === 'gone') return { found: 'gone', gone: decodeGoneRecord(id, flat) };
  const field = reader(toMap(flat));
  const opts = (field.json('opts') ?? {}) as { attempts?: number };
  return {
    found: 'job',
    job: {
      id,
      state,
      data: field.json('data'),
      timestamp: field.int('timestamp') ?? 0,
      processedOn: field.int('processedOn'),
      finishedOn: field.int('finishedOn'),
      attemptsMade: field.int('atm') ?? field.int('attemptsMade') ?? 0,
      attemptsStarted: field.int('ats') ?? 0,
      maxAttempts: opts.attempts ?? 1,
      progress: field.json('progress'),
      returnValue: field.json('returnvalue'),
      failedReason: field.text('failedReason'),
      dueAt: delayedScore ? Math.floor(Number(delayedScore) / DELAYED_SCORE_FACTOR) : undefined,
      terminateRequested: field.json(TERMINATE_FIELD) as TerminationRecord | undefined,
      terminated: field.json(TERMINATED_FIELD) as TerminationRecord | undefined,
      waitingCount: typeof waitingCount === 'number' ? waitingCount : undefined,
      webhook: field.json(WEBHOOK_FIELD) as WebhookDeliveryRecord | undefined,
    },
  };
}
