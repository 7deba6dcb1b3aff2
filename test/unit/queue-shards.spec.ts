import { createHmac, randomUUID } from 'node:crypto';
import { CLUSTER_SLOTS, keySlot, QueueShards, shardIndexOf, shardPrefixes, sumQueueCounts } from '@report-jobs/queue';
import { instanceIdForKey } from '../../apps/api/src/reports/idempotency';
import { splitConcurrency } from '../../apps/worker/src/processors/report-worker';

describe('keySlot', () => {
  it.each([
    ['somekey', 11058],
    ['foo{hash_tag}', 2515],
    ['{reports}', 5152],
    ['{reports-1}', 12497],
    ['{reports-2}', 178],
    // Only the first tag counts, and an empty one is no tag.
    ['{reports}:reports:{other}', 5152],
  ])('puts %s in slot %i, as CLUSTER KEYSLOT does', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  it('hashes a key with an empty tag as a whole, not by its empty tag', () => {
    // An empty tag taken as the tag would put every such key in the slot of '' (0).
    expect(keySlot('{}a')).not.toBe(0);
    expect(keySlot('{}a')).not.toBe(keySlot('{}b'));
  });
});

describe('shardPrefixes', () => {
  const third = (prefix: string) => Math.floor((keySlot(prefix) * 3) / CLUSTER_SLOTS);

  it('keeps the prefix as it is for one shard, tag or not', () => {
    expect(shardPrefixes('bull', 1)).toEqual(['bull']);
    expect(shardPrefixes('{report-jobs}', 1)).toEqual(['{report-jobs}']);
  });

  it('keeps shard 0 and gives the others tags whose slots fall in the other equal ranges', () => {
    const prefixes = shardPrefixes('{report-jobs}', 3);
    expect(prefixes[0]).toBe('{report-jobs}');
    expect(prefixes).toHaveLength(3);
    expect(new Set(prefixes.map(third))).toEqual(new Set([0, 1, 2]));
    for (const prefix of prefixes.slice(1)) expect(prefix).toMatch(/^\{report-jobs-[12](\.\d+)?\}$/);
  });

  it('does so for other counts and keeps what surrounds the tag', () => {
    for (const count of [2, 4, 6, 16]) {
      const prefixes = shardPrefixes('app:{rj}:v1', count);
      const ranges = prefixes.map((prefix) => Math.floor((keySlot(prefix) * count) / CLUSTER_SLOTS));
      expect(new Set(ranges).size).toBe(count);
      for (const prefix of prefixes) expect(prefix).toMatch(/^app:\{rj(-\d+(\.\d+)?)?\}:v1$/);
    }
  });

  it('is the same every time: queue names are a stable contract', () => {
    expect(shardPrefixes('{report-jobs}', 3)).toEqual(shardPrefixes('{report-jobs}', 3));
  });

  it('refuses several shards without a hash tag', () => {
    expect(() => shardPrefixes('bull', 3)).toThrow(/hash tag/);
  });
});

describe('shardIndexOf', () => {
  it('spreads random ids evenly', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[shardIndexOf(randomUUID(), 3)]++;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('maps ids derived from an Idempotency-Key evenly, the same key always to the same shard', () => {
    const secret = createHmac('sha256', 'test').digest();
    const counts = [0, 0, 0];
    for (let i = 0; i < 3_000; i++) counts[shardIndexOf(instanceIdForKey(secret, 'tenant', `key-${i}`), 3)]++;
    for (const count of counts) expect(Math.abs(count - 1_000)).toBeLessThan(150);
    const id = instanceIdForKey(secret, 'tenant', 'order-1');
    expect(shardIndexOf(instanceIdForKey(secret, 'tenant', 'order-1'), 3)).toBe(shardIndexOf(id, 3));
  });

  it('puts every job in shard 0 when there is one shard', () => {
    expect(shardIndexOf(randomUUID(), 1)).toBe(0);
  });
});

describe('QueueShards', () => {
  it('names each shard and its keys as BullMQ does, and finds the shard of a job', () => {
    const shards = new QueueShards('{report-jobs}', 3);
    expect(shards.count).toBe(3);
    expect(shards.home).toBe(shards.all[0]);
    expect(shards.home.toKey('wait')).toBe('{report-jobs}:reports:wait');
    const id = randomUUID();
    const shard = shards.forJob(id);
    expect(shard.index).toBe(shardIndexOf(id, 3));
    expect(keySlot(shard.toKey(id))).toBe(keySlot(shard.prefix));
  });
});

describe('splitConcurrency', () => {
  it.each([
    [10, 1, 0, [10]],
    [10, 3, 0, [4, 3, 3]],
    [10, 3, 1, [3, 4, 3]],
    [10, 3, 2, [3, 3, 4]],
    [11, 3, 2, [4, 3, 4]],
    [3, 3, 1, [1, 1, 1]],
  ])('splits %i over %i shards from offset %i as %j', (total, parts, offset, expected) => {
    expect(splitConcurrency(total, parts, offset)).toEqual(expected);
  });
});

describe('sumQueueCounts', () => {
  const counts = (waiting: number, oldestWaitingSince?: number) => ({
    counts: { waiting, prioritized: 0, delayed: 1, active: 2, completed: 3, failed: 0 },
    oldestWaitingSince,
  });

  it('adds the states of the shards and keeps the longest wait', () => {
    expect(sumQueueCounts([counts(1, 500), counts(0), counts(4, 200)])).toEqual({
      counts: { waiting: 5, prioritized: 0, delayed: 3, active: 6, completed: 9, failed: 0 },
      oldestWaitingSince: 200,
    });
    expect(sumQueueCounts([counts(0), counts(0)]).oldestWaitingSince).toBeUndefined();
  });
});
