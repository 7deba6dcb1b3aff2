import { Redis, type RedisOptions } from 'ioredis';

/**
 * The API's connection. Commands fail at once while Redis is unreachable (no offline
 * queue, one retry, a command deadline) so that a request never hangs on a dead Redis:
 * the API answers 503 instead. ioredis keeps reconnecting in the background. Commands
 * issued in the same tick by concurrent requests go out in one write (auto-pipelining):
 * under load a socket write per command was the API's largest single cost.
 */
export function createProducerConnection(url: string, overrides: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName: 'report-jobs:api',
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    ...overrides,
  });
}

/**
 * The worker's connection. BullMQ requires `maxRetriesPerRequest: null` so that its
 * blocking commands wait through a Redis restart instead of failing the worker.
 */
export function createWorkerConnection(url: string, overrides: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName: 'report-jobs:worker',
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    ...overrides,
  });
}
