import { bookkeepingKeys } from './bookkeeping-keys';
import type { RedisClient } from './redis-connections';
import type { QueueShards } from './queue-shards';

/**
 * Records the deployment's QUEUE_SHARDS in Redis the first time an app connects, and
 * answers the recorded count ever after. A deployment that ran before shards existed has
 * jobs (BullMQ's job counter, `id`, exists) and no record: its count was 1.
 *   KEYS: record, the home queue's job counter   ARGV: the count configured
 */
const RECORD_SCRIPT = `
local recorded = redis.call('GET', KEYS[1])
if not recorded then
  recorded = ARGV[1]
  if redis.call('EXISTS', KEYS[2]) == 1 then recorded = '1' end
  redis.call('SET', KEYS[1], recorded)
end
return tonumber(recorded)
`;

interface RecordCommand {
  reportJobShardCount(record: string, counter: string, count: string): Promise<number>;
}

export class ShardCountMismatchError extends Error {
  override name = 'ShardCountMismatchError';

  constructor(
    readonly configured: number,
    readonly recorded: number,
  ) {
    super(
      `QUEUE_SHARDS=${configured}, but this deployment's jobs are spread over ${recorded} shard(s): ` +
        `a job's shard follows from its id and the count, so changing it would lose track of stored jobs. ` +
        `Start with QUEUE_SHARDS=${recorded}, or run the new count as a new deployment under another QUEUE_PREFIX.`,
    );
  }
}

/**
 * Resolves when the configured shard count is the deployment's; rejects with
 * ShardCountMismatchError when Redis records another one (or with the Redis error).
 */
export async function verifyShardCount(client: RedisClient, shards: QueueShards): Promise<void> {
  if (!('reportJobShardCount' in client)) client.defineCommand('reportJobShardCount', { numberOfKeys: 2, lua: RECORD_SCRIPT });
  const home = shards.home;
  const recorded = await (client as unknown as RecordCommand).reportJobShardCount(
    bookkeepingKeys(home).shardCount,
    home.toKey('id'),
    String(shards.count),
  );
  if (recorded !== shards.count) throw new ShardCountMismatchError(shards.count, recorded);
}

/**
 * The deployment's shard count, checked once per process: the first caller runs the check,
 * later ones share its answer, and a check that failed (Redis unreachable) is run again by
 * the next caller. A mismatch goes to `onMismatch` (the apps stop: serving would read and
 * write jobs on the wrong shards) and rejects the check.
 */
export class ShardCountCheck {
  private check?: Promise<void>;

  constructor(
    private readonly client: RedisClient,
    private readonly shards: QueueShards,
    private readonly onMismatch: (error: ShardCountMismatchError) => void,
  ) {}

  verified(): Promise<void> {
    this.check ??= verifyShardCount(this.client, this.shards).catch((error: unknown) => {
      this.check = undefined;
      if (error instanceof ShardCountMismatchError) this.onMismatch(error);
      throw error;
    });
    return this.check;
  }
}

/** What both apps do on a shard count mismatch: say so, in the log and on stderr, and exit 1. */
export function exitOnShardCountMismatch(logger: { error(message: string): void }): (error: ShardCountMismatchError) => void {
  return (error) => {
    logger.error(error.message);
    console.error(error.message);
    process.exit(1);
  };
}
