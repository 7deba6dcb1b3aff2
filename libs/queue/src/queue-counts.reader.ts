import type { Queue } from 'bullmq';
import type { RedisClient } from './redis-connections';

/** The queue states counted for monitoring, in the order the script answers them. */
export const COUNTED_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;
export type CountedState = (typeof COUNTED_STATES)[number];

/** How many jobs are in each state, and since when the job next in line has waited. */
export interface QueueCounts {
  counts: Record<CountedState, number>;
  /** Submission time (epoch ms) of the longest-waiting job next in line, or undefined when none waits. */
  oldestWaitingSince?: number;
}

/**
 * One round trip of O(1) commands, whatever the backlog: LLEN and ZCARD for the counts, and
 * the submission time of the jobs next in line. BullMQ LPUSHes new jobs onto the wait list
 * and workers take them from its tail (RPOPLPUSH), so the tail is the oldest waiting job;
 * jobs handed back after a stall or a shutdown are RPUSHed there too, keeping their own
 * submission time. Prioritized jobs run by score, so the first by score is the next of them.
 */
const COUNTS_SCRIPT = `
local counts = {
  redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]),
  redis.call('LLEN', KEYS[4]), redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[6])
}
local since = {}
local tail = redis.call('LINDEX', KEYS[1], -1)
if tail then table.insert(since, redis.call('HGET', ARGV[1] .. tail, 'timestamp') or '') end
local nextPrioritized = redis.call('ZRANGE', KEYS[2], 0, 0)
if nextPrioritized[1] then table.insert(since, redis.call('HGET', ARGV[1] .. nextPrioritized[1], 'timestamp') or '') end
return {counts, since}
`;

interface CountsCommand {
  reportJobQueueCounts(...keysAndArgs: string[]): Promise<[number[], string[]]>;
}

export class QueueCountsReader {
  private readonly keys: string[];
  private readonly jobKeyPrefix: string;

  constructor(
    private readonly redis: RedisClient,
    queue: Pick<Queue, 'keys' | 'toKey'>,
  ) {
    if (!('reportJobQueueCounts' in redis)) {
      redis.defineCommand('reportJobQueueCounts', { numberOfKeys: 6, lua: COUNTS_SCRIPT });
    }
    const k = queue.keys;
    this.keys = [k.wait, k.prioritized, k.delayed, k.active, k.completed, k.failed];
    this.jobKeyPrefix = queue.toKey('');
  }

  async read(): Promise<QueueCounts> {
    const command = this.redis as unknown as CountsCommand;
    const [numbers, since] = await command.reportJobQueueCounts(...this.keys, this.jobKeyPrefix);
    const counts = Object.fromEntries(COUNTED_STATES.map((state, i) => [state, Number(numbers[i] ?? 0)])) as QueueCounts['counts'];
    const times = since.map(Number).filter((time) => Number.isFinite(time) && time > 0);
    return { counts, oldestWaitingSince: times.length > 0 ? Math.min(...times) : undefined };
  }
}

/** The counts of several shards as one queue: states summed, the longest wait of them all. */
export function sumQueueCounts(shards: QueueCounts[]): QueueCounts {
  const counts = Object.fromEntries(
    COUNTED_STATES.map((state) => [state, shards.reduce((sum, shard) => sum + shard.counts[state], 0)]),
  ) as QueueCounts['counts'];
  const since = shards.map((shard) => shard.oldestWaitingSince).filter((time): time is number => time !== undefined);
  return { counts, oldestWaitingSince: since.length > 0 ? Math.min(...since) : undefined };
}
