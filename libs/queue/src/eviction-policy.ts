import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './redis-connections';

interface CheckLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Checks what the apps cannot see from their commands alone, each time the connection
 * becomes ready (at boot, after Redis restarts, after a failover), through INFO, which
 * managed Redis services allow where CONFIG GET is disabled:
 *
 * - Redis may evict keys under memory pressure: BullMQ's jobs, locks and lists are keys,
 *   so any maxmemory-policy but noeviction can silently lose queued jobs. On a cluster,
 *   every master is checked. BullMQ prints a similar line to the console; this one is a
 *   structured log line that says what to set.
 * - REDIS_URL names a node of a Redis Cluster: a plain connection then meets MOVED and
 *   CROSSSLOT errors on most commands. The log says to set REDIS_CLUSTER_NODES instead
 *   (and readiness, which writes to every shard, fails).
 */
export function checkRedisServer(client: RedisClient, logger: CheckLogger): void {
  const check = async () => {
    const nodes = isCluster(client) ? client.nodes('master') : [client];
    for (const node of nodes) {
      let info: string;
      try {
        info = await node.info('memory', 'cluster');
      } catch {
        return; // Redis went away again; the next 'ready' checks anew.
      }
      if (!isCluster(client) && /^cluster_enabled:1/m.test(info)) {
        logger.error(
          'REDIS_URL names a node of a Redis Cluster, which a single-server connection cannot use: ' +
            'set REDIS_CLUSTER_NODES (and a QUEUE_PREFIX with a hash tag) instead of REDIS_URL.',
        );
      }
      reportEvictionPolicy(node, /^maxmemory_policy:(\S+)/m.exec(info)?.[1], logger, nodes.length > 1);
    }
  };
  client.on('ready', () => void check());
  if (client.status === 'ready') void check();
}

function reportEvictionPolicy(node: Redis, policy: string | undefined, logger: CheckLogger, nameNode: boolean): void {
  const where = nameNode ? ` on ${node.options.host}:${node.options.port}` : '';
  if (policy === 'noeviction') {
    logger.log(`Redis keeps every key under memory pressure (maxmemory-policy noeviction)${where}`);
  } else if (policy) {
    logger.warn(
      `Redis maxmemory-policy is ${policy}${where}: under memory pressure Redis evicts keys, and queued jobs are lost. ` +
        'Set maxmemory-policy noeviction (redis-server --maxmemory-policy noeviction, or in redis.conf).',
    );
  }
}
