import type { Redis } from 'ioredis';

interface PolicyLogger {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * Warns when Redis may evict keys under memory pressure: BullMQ's jobs, locks and lists
 * are keys, so any maxmemory-policy but noeviction can silently lose queued jobs. Checked
 * each time the connection becomes ready (at boot, and after Redis restarts), through
 * INFO memory, which managed Redis services allow where CONFIG GET is disabled. BullMQ
 * prints a similar line to the console; this one is a structured log line that says what
 * to set.
 */
export function checkEvictionPolicy(redis: Redis, logger: PolicyLogger): void {
  const check = async () => {
    let policy: string | undefined;
    try {
      policy = /^maxmemory_policy:(\S+)/m.exec(await redis.info('memory'))?.[1];
    } catch {
      return; // Redis went away again; the next 'ready' checks anew.
    }
    if (policy === 'noeviction') {
      logger.log('Redis keeps every key under memory pressure (maxmemory-policy noeviction)');
    } else if (policy) {
      logger.warn(
        `Redis maxmemory-policy is ${policy}: under memory pressure Redis evicts keys, and queued jobs are lost. ` +
          'Set maxmemory-policy noeviction (redis-server --maxmemory-policy noeviction, or in redis.conf).',
      );
    }
  };
  redis.on('ready', () => void check());
  if (redis.status === 'ready') void check();
}
