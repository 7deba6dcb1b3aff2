import type { Cluster, Redis } from 'ioredis';
import { validateEnvironment } from '@report-jobs/config';
import { createRedisClient, isCluster, type RedisClient, type RedisRole } from '@report-jobs/queue';

// The factory's choices, read from the clients it builds (pointed at a closed port, and
// disconnected at once: nothing here needs a Redis).
const NOWHERE = '127.0.0.1:1';
const clients: RedisClient[] = [];
const build = (env: Record<string, string>, role: RedisRole, name?: string) => {
  const client = createRedisClient(validateEnvironment(env), role, name ? { name } : {});
  client.on('error', () => undefined);
  clients.push(client);
  return client;
};
afterAll(() => clients.forEach((client) => client.disconnect()));

describe('createRedisClient', () => {
  it('makes a producer that fails fast and a worker connection that waits, on one server', () => {
    const producer = build({ REDIS_URL: `redis://${NOWHERE}` }, 'producer') as Redis;
    expect(isCluster(producer)).toBe(false);
    expect(producer.options).toMatchObject({
      connectionName: 'report-jobs:api',
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
    });
    const worker = build({ REDIS_URL: `redis://${NOWHERE}` }, 'worker', 'worker-cancellations') as Redis;
    expect(worker.options).toMatchObject({ connectionName: 'report-jobs:worker-cancellations', enableOfflineQueue: true, maxRetriesPerRequest: null });
  });

  it('asks the sentinels for the master, and reconnects when a demoted master refuses a write', () => {
    const env = { REDIS_SENTINELS: `${NOWHERE},127.0.0.1:2`, REDIS_SENTINEL_MASTER: 'reports' };
    const producer = build(env, 'producer') as Redis;
    expect(producer.options).toMatchObject({
      sentinels: [
        { host: '127.0.0.1', port: 1 },
        { host: '127.0.0.1', port: 2 },
      ],
      name: 'reports',
      role: 'master',
      enableOfflineQueue: false,
    });
    const readOnly = new Error("READONLY You can't write against a read only replica.");
    expect(producer.options.reconnectOnError!(readOnly)).toBe(1);
    expect(producer.options.reconnectOnError!(new Error('WRONGTYPE'))).toBe(false);
    // A worker's command is sent again once it has reconnected to the new master.
    expect((build(env, 'worker') as Redis).options.reconnectOnError!(readOnly)).toBe(2);
  });

  it('makes a cluster client with the role on every node and the credentials of the node list', () => {
    const env = { REDIS_CLUSTER_NODES: `rediss://app:secret@${NOWHERE}`, QUEUE_PREFIX: '{rj}' };
    const producer = build(env, 'producer') as Cluster;
    expect(isCluster(producer)).toBe(true);
    expect(producer.options).toMatchObject({ enableOfflineQueue: false, enableAutoPipelining: true });
    expect(producer.options.redisOptions).toMatchObject({
      connectionName: 'report-jobs:api',
      username: 'app',
      password: 'secret',
      tls: {},
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
    });
    const worker = build(env, 'worker') as Cluster;
    // BullMQ refuses a blocking connection that gives up on commands.
    expect(worker.options.redisOptions).toMatchObject({ maxRetriesPerRequest: null });
    expect(worker.options.enableOfflineQueue).toBe(true);
  });
});
