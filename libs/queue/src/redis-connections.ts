import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { redisTarget, type RedisCredentials, type RedisTargetSettings } from '@report-jobs/config';

/** A connection to whichever Redis the environment names: one server or a Sentinel-watched master (Redis), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * What the connection is for:
 * - `producer`: serves requests. Commands fail at once while Redis is unreachable (no
 *   offline queue, one retry, a one-second deadline) so that a request never hangs on a
 *   dead Redis: the API answers 503 instead, while the client reconnects in the
 *   background. Commands issued in the same tick go out in one write (auto-pipelining):
 *   under load a socket write per command was the API's largest single cost.
 * - `worker`: for BullMQ workers, queue events, subscribers and housekeeping. Commands
 *   wait through an outage (`maxRetriesPerRequest: null`, which BullMQ requires for its
 *   blocking commands) and run once Redis is back.
 */
export type RedisRole = 'producer' | 'worker';

export interface RedisClientOptions {
  /** Shown by CLIENT LIST as `report-jobs:<name>`; the role's default otherwise. */
  name?: string;
}

const DEFAULT_NAMES: Record<RedisRole, string> = { producer: 'api', worker: 'worker' };

/** Per-command behaviour of each role, for one server or each node of a cluster. */
const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  producer: { maxRetriesPerRequest: 1, connectTimeout: 1000, commandTimeout: 1000 },
  worker: { maxRetriesPerRequest: null },
};
/** Whether commands wait in a queue while disconnected. */
const OFFLINE_QUEUE: Record<RedisRole, boolean> = { producer: false, worker: true };

/** Reconnects after 200 ms, 400 ms, … then every 2 s, for as long as it takes. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2000);
/** Behind Sentinel, each reconnection asks where the master is: every half second at most, to find a promoted replica soon. */
const sentinelReconnectDelay = (attempt: number) => Math.min(attempt * 100, 500);

/**
 * The one way the apps connect to Redis: a client for the standalone server
 * (REDIS_URL), the master behind Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_MASTER) or the
 * Redis Cluster (REDIS_CLUSTER_NODES) the validated environment names, with the
 * behaviour of its role. Every Redis user creates its connection here; BullMQ accepts
 * either kind of client as its `connection`. Attach an 'error' listener: without one an
 * outage crashes the process.
 *
 *   const redis = createRedisClient(env, 'worker', { name: 'worker-deliveries' });
 *   redis.on('error', (error: Error) => logger.warn(`Redis connection: ${error.message}`));
 *   const queue = new Queue('deliveries', { connection: redis, prefix: env.QUEUE_PREFIX });
 *
 * Keys: a queue of its own takes QUEUE_PREFIX as its prefix (on a cluster, its hash tag
 * then keeps the queue in one slot, the home shard's); keys kept beside a report job go
 * under that job's shard (QueueShards.forJob, bookkeeping-keys.ts), so that a script may
 * touch them together with the job's. Pub/sub channels need no tag.
 */
export function createRedisClient(env: RedisTargetSettings, role: RedisRole, options: RedisClientOptions = {}): RedisClient {
  const connectionName = `report-jobs:${options.name ?? DEFAULT_NAMES[role]}`;
  const enableAutoPipelining = role === 'producer';
  const target = redisTarget(env);
  switch (target.mode) {
    case 'standalone':
      return new Redis(target.url, {
        connectionName,
        enableAutoPipelining,
        enableOfflineQueue: OFFLINE_QUEUE[role],
        retryStrategy: reconnectDelay,
        ...ROLE_OPTIONS[role],
      });
    case 'sentinel':
      return new Redis({
        sentinels: target.sentinels,
        name: target.masterName,
        role: 'master',
        ...credentialOptions(target.credentials),
        // The sentinels are asked over TLS too when the master is reached over it.
        enableTLSForSentinelMode: target.credentials.tls,
        sentinelRetryStrategy: reconnectDelay,
        // A failover is followed when the old master's connection breaks: a dead master's
        // does, and Sentinel closes the clients of a master it demotes. Meanwhile the client
        // asks the sentinels again at every reconnection, every half second at most, so it
        // finds the promoted replica soon after the promotion. ioredis' failoverDetector is
        // left off: its +switch-master listener can cut short a reconnection under way,
        // which ends the client for good (seen here under load: the API stayed unready).
        // A master demoted to replica refuses writes: reconnect, asking the sentinels anew.
        // A worker's command is then sent again; a producer's fails (503) and the next goes to the new master.
        reconnectOnError: (error) => (error.message.startsWith('READONLY') ? (role === 'worker' ? 2 : 1) : false),
        connectionName,
        enableAutoPipelining,
        enableOfflineQueue: OFFLINE_QUEUE[role],
        retryStrategy: sentinelReconnectDelay,
        ...ROLE_OPTIONS[role],
      });
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        redisOptions: { connectionName, ...credentialOptions(target.credentials), ...ROLE_OPTIONS[role] },
        enableAutoPipelining,
        enableOfflineQueue: OFFLINE_QUEUE[role],
        clusterRetryStrategy: reconnectDelay,
        // A producer gives up on a slot whose master is down within about a second, as on one server.
        ...(role === 'producer' ? { maxRedirections: 8, retryDelayOnFailover: 100, retryDelayOnClusterDown: 100, retryDelayOnTryAgain: 100 } : {}),
      };
      return new Cluster(target.nodes, clusterOptions);
    }
  }
}

function credentialOptions(credentials: RedisCredentials): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  return {
    ...(credentials.username !== undefined ? { username: credentials.username } : {}),
    ...(credentials.password !== undefined ? { password: credentials.password } : {}),
    ...(credentials.tls ? { tls: {} } : {}),
  };
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Partial<Cluster>).isCluster === true;
}
