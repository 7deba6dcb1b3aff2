import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueJobState } from '@report-jobs/contract';

/**
 * One status read = one Redis round trip whose cost does not grow with the backlog.
 *
 * BullMQ's `Job.getState()` scans the whole wait list (LPOS), so the status of the
 * oldest waiting job, the one about to run, gets slower as the queue grows. This
 * script reads the job hash and tests membership only where that is O(1) or O(log n)
 * (the sorted sets) or bounded by worker concurrency (the active list). A job that
 * exists and is in none of them can only be waiting: BullMQ moves jobs between these
 * structures inside atomic scripts, so no job is ever between two of them here.
 */
const SNAPSHOT_SCRIPT = `
local job = redis.call('HGETALL', KEYS[1])
if #job == 0 then return {'unknown', job, false} end
local id = ARGV[1]
if redis.call('ZSCORE', KEYS[2], id) then return {'completed', job, false} end
if redis.call('ZSCORE', KEYS[3], id) then return {'failed', job, false} end
local delayedScore = redis.call('ZSCORE', KEYS[4], id)
if delayedScore then return {'delayed', job, delayedScore} end
if redis.call('ZSCORE', KEYS[5], id) then return {'prioritized', job, false} end
if redis.call('LPOS', KEYS[6], id) then return {'active', job, false} end
if redis.call('ZSCORE', KEYS[7], id) then return {'waiting-children', job, false} end
return {'waiting', job, false}
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
}

type SnapshotReply = [QueueJobState, string[], string | null];

interface SnapshotCommand {
  reportJobSnapshot(...keysAndArgs: string[]): Promise<SnapshotReply>;
}

export class JobSnapshotReader {
  private readonly keys: string[];

  constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
  ) {
    if (!('reportJobSnapshot' in redis)) {
      redis.defineCommand('reportJobSnapshot', { numberOfKeys: 7, lua: SNAPSHOT_SCRIPT });
    }
    const k = queue.keys;
    this.keys = [k.completed, k.failed, k.delayed, k.prioritized, k.active, k['waiting-children']];
  }

  /** The job's snapshot, or null when no job has that id. */
  async read(jobId: string): Promise<JobSnapshot | null> {
    const command = this.redis as unknown as SnapshotCommand;
    const [state, flat, delayedScore] = await command.reportJobSnapshot(
      this.queue.toKey(jobId),
      ...this.keys,
      jobId,
    );
    if (state === 'unknown') return null;
    return decodeSnapshot(jobId, state, flat, delayedScore);
  }
}

function decodeSnapshot(
  id: string,
  state: QueueJobState,
  flat: string[],
  delayedScore: string | null,
): JobSnapshot {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(flat[i], flat[i + 1]);
  const int = (field: string) => {
    const raw = hash.get(field);
    return raw === undefined || raw === '' ? undefined : Number.parseInt(raw, 10);
  };
  const json = (field: string): unknown => {
    const raw = hash.get(field);
    if (raw === undefined || raw === '') return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  };
  const opts = (json('opts') ?? {}) as { attempts?: number };
  return {
    id,
    state,
    data: json('data'),
    timestamp: int('timestamp') ?? 0,
    processedOn: int('processedOn'),
    finishedOn: int('finishedOn'),
    attemptsMade: int('atm') ?? int('attemptsMade') ?? 0,
    attemptsStarted: int('ats') ?? 0,
    maxAttempts: opts.attempts ?? 1,
    progress: json('progress'),
    returnValue: json('returnvalue'),
    failedReason: hash.get('failedReason') || undefined,
    dueAt: delayedScore ? Math.floor(Number(delayedScore) / DELAYED_SCORE_FACTOR) : undefined,
  };
}
