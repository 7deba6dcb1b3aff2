import { hashTagOf, type Environment } from '@report-jobs/config';
import { REPORTS_QUEUE } from '@report-jobs/contract';
import { CLUSTER_SLOTS, keySlot } from './key-slot';

/**
 * One of the queues the jobs are spread over. Every shard is a BullMQ queue named
 * REPORTS_QUEUE under its own key prefix; on a Redis Cluster the prefix's hash tag puts
 * all of the shard's keys (BullMQ's and the service's own) in one slot, so every script
 * and transaction of the shard runs on one master.
 */
export interface QueueShard {
  /** 0 … QUEUE_SHARDS − 1. Shard 0 is QUEUE_PREFIX itself: a deployment without shards keeps its keys. */
  index: number;
  /** BullMQ's `prefix` option for the shard's queue. */
  prefix: string;
  /** A key of the shard's queue, as BullMQ's `queue.toKey(type)` names it. */
  toKey(type: string): string;
}

/**
 * The shards of a deployment (QUEUE_PREFIX, QUEUE_SHARDS), and which one holds a job.
 *
 * A job's shard comes from its instance id alone (the id's last 32 bits, modulo the count),
 * so a status read goes to one node in one round trip, random ids spread evenly, and an id
 * derived from an Idempotency-Key always lands on the same shard. The modulo makes the
 * count part of every id's address: QUEUE_SHARDS cannot change under stored jobs, which
 * is why it is recorded in Redis (see shard-count.ts).
 */
export class QueueShards {
  readonly all: readonly QueueShard[];

  constructor(prefix: string, count: number) {
    this.all = shardPrefixes(prefix, count).map((shardPrefix, index) => ({
      index,
      prefix: shardPrefix,
      toKey: (type: string) => `${shardPrefix}:${REPORTS_QUEUE}:${type}`,
    }));
  }

  static fromEnvironment(env: Pick<Environment, 'QUEUE_PREFIX' | 'QUEUE_SHARDS'>): QueueShards {
    return new QueueShards(env.QUEUE_PREFIX, env.QUEUE_SHARDS);
  }

  get count(): number {
    return this.all.length;
  }

  /** Shard 0: it also holds the service-wide keys (idempotency secret, rate counts, sweep lease, the shard count). */
  get home(): QueueShard {
    return this.all[0];
  }

  /** The shard of the job with this instance id. */
  forJob(instanceId: string): QueueShard {
    return this.all[shardIndexOf(instanceId, this.count)];
  }
}

/** The shard index of an instance id: its last 8 hex digits (random in v4 ids, HMAC output in key-derived v8 ids), modulo the count. */
export function shardIndexOf(instanceId: string, count: number): number {
  if (count === 1) return 0;
  const bits = Number.parseInt(instanceId.slice(-8), 16);
  return Number.isFinite(bits) ? bits % count : 0;
}

/**
 * The key prefix of each shard. Shard 0 keeps `prefix`; shard i gets the prefix's hash tag
 * with a suffix (`{report-jobs}` → `{report-jobs-1}`, or `{report-jobs-1.k}` for the first
 * k that fits) whose slot lies in the middle of the i-th of `count` equal slot ranges, the
 * ranges shard 0's slot does not fall in. A cluster of `count` masters made by
 * `redis-cli --cluster create` gives each master one such range, so the shards land on
 * different masters; the apps log where each shard's slot is served, and warn when two
 * share a master.
 */
export function shardPrefixes(prefix: string, count: number): string[] {
  if (count === 1) return [prefix];
  const tag = hashTagOf(prefix);
  if (!tag) throw new Error(`A prefix for ${count} shards needs a hash tag, e.g. {report-jobs}: ${prefix}`);
  const rangeOf = (slot: number) => Math.floor((slot * count) / CLUSTER_SLOTS);
  const homeRange = rangeOf(keySlot(prefix));
  const ranges = Array.from({ length: count }, (_, range) => range).filter((range) => range !== homeRange);
  const prefixes = [prefix];
  for (const [i, range] of ranges.entries()) {
    const shard = i + 1;
    for (let k = 0; ; k++) {
      if (k > 1_000_000) throw new Error(`No hash tag found for shard ${shard} of ${count}`);
      const candidate = k === 0 ? `${tag}-${shard}` : `${tag}-${shard}.${k}`;
      const position = (keySlot(`{${candidate}}`) * count) / CLUSTER_SLOTS;
      const withinRange = position - range;
      if (withinRange >= 0.25 && withinRange < 0.75) {
        prefixes.push(prefix.replace(`{${tag}}`, `{${candidate}}`));
        break;
      }
    }
  }
  return prefixes;
}
