import { QueueShards, ShardCountCheck, ShardCountMismatchError, type RedisClient } from '@report-jobs/queue';

/**
 * A Redis that answers the shard-count script: the recorded count, or a failure, once per
 * answer given; it counts the scripts run.
 */
function fakeRedis(answers: Array<number | Error>) {
  const calls: string[][] = [];
  const client = {
    defineCommand: () => undefined,
    reportJobShardCount: async (...keysAndArgs: string[]) => {
      calls.push(keysAndArgs);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('no answer left');
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { client: client as unknown as RedisClient, calls };
}

describe('ShardCountCheck', () => {
  const shards = new QueueShards('{report-jobs}', 3);

  it('runs the check once for every caller, and records the configured count', async () => {
    const { client, calls } = fakeRedis([3]);
    const check = new ShardCountCheck(client, shards, () => undefined);
    await Promise.all([check.verified(), check.verified()]);
    await check.verified();
    expect(calls).toEqual([['{report-jobs}:reports:rj:shards', '{report-jobs}:reports:id', '3']]);
  });

  it('runs the check again after one that failed, as when Redis was out of reach', async () => {
    const { client, calls } = fakeRedis([new Error('Connection is closed.'), 3]);
    const check = new ShardCountCheck(client, shards, () => undefined);
    await expect(check.verified()).rejects.toThrow('Connection is closed.');
    await check.verified();
    expect(calls).toHaveLength(2);
  });

  it('hands a mismatch to onMismatch, naming both counts, and rejects', async () => {
    const { client } = fakeRedis([2]);
    const mismatches: ShardCountMismatchError[] = [];
    const check = new ShardCountCheck(client, shards, (error) => mismatches.push(error));
    await expect(check.verified()).rejects.toBeInstanceOf(ShardCountMismatchError);
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({ configured: 3, recorded: 2 });
    expect(mismatches[0].message).toContain("QUEUE_SHARDS=3, but this deployment's jobs are spread over 2 shard(s)");
  });
});
