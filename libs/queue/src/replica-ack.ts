import type { Redis } from 'ioredis';
import { keySlot } from './key-slot';
import { isCluster, type RedisClient } from './redis-connections';
import { NodeUnreachableError } from './redis-errors';

/**
 * How long a submit waits for replicas to acknowledge its job (REDIS_MIN_REPLICAS_ACK):
 * half of a producer command's one-second deadline, so that the whole submit still
 * answers within about a second when a replica lags or is gone.
 */
export const REPLICA_ACK_TIMEOUT_MS = 500;

/**
 * Waits until `replicas` replicas have every write this connection made so far, for at
 * most `timeoutMs`; answers how many did (Redis WAIT). WAIT counts the writes of the
 * connection it is sent on, so it goes where the writes went: on a cluster, to the
 * connection of the master serving `key`'s slot, the one that carried the writes to that
 * key. It is sent after their replies came back, hence after them on that connection.
 */
export async function replicasAcknowledging(client: RedisClient, key: string, replicas: number, timeoutMs: number): Promise<number> {
  return (await masterConnection(client, key)).wait(replicas, timeoutMs);
}

/** The connection that serves `key`: the client itself, or on a cluster the connection of the master serving the key's slot. */
export function masterConnection(client: RedisClient, key: string): Redis {
  if (!isCluster(client)) return client;
  const slot = keySlot(key);
  const address = client.slots[slot]?.[0];
  const node = address ? client.nodes('master').find((redis) => `${redis.options.host}:${redis.options.port}` === address) : undefined;
  if (!node) throw new NodeUnreachableError(`No connection to the master of slot ${slot}`);
  return node;
}
