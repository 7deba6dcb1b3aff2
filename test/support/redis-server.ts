import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port';
import { waitFor } from './wait';

/**
 * The Redis a test suite runs against. With REDIS_URL set, that server is used (and its
 * database flushed: point it at a disposable one). Otherwise a private redis-server is
 * started from PATH on a free port, which fault tests can also stop and start again.
 */
export interface TestRedis {
  url: string;
  /** True when this suite owns the server (and may stop or restart it). */
  owned: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  client(): Redis;
  close(): Promise<void>;
}

/**
 * `describe` for suites that stop, restart or reconfigure their Redis: with REDIS_URL set
 * they cannot, so Jest skips them and reports them as skipped (never as passed).
 */
export const describeWithOwnRedis: jest.Describe = process.env.REDIS_URL ? describe.skip : describe;

export interface TestRedisOptions {
  appendOnly?: boolean;
  /** More redis-server arguments, e.g. ['--maxmemory-policy', 'allkeys-lru'] (own server only). */
  serverArgs?: string[];
}

export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const clients: Redis[] = [];
  const client = (url: string) => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
    redis.on('error', () => undefined);
    clients.push(redis);
    return redis;
  };
  const closeClients = async () => {
    await Promise.all(clients.splice(0).map((redis) => redis.quit().catch(() => redis.disconnect())));
  };

  if (process.env.REDIS_URL) {
    if (options.serverArgs) throw new Error('This test configures its own redis-server; it cannot run with REDIS_URL set');
    const url = process.env.REDIS_URL;
    const admin = client(url);
    await admin.flushdb();
    const unsupported = async () => {
      throw new Error('This test stops Redis; it needs its own redis-server (unset REDIS_URL)');
    };
    return { url, owned: false, stop: unsupported, start: unsupported, client: () => client(url), close: closeClients };
  }

  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error(
      'No Redis for the tests: install redis-server (Debian: apt-get install redis-server) ' +
        'or set REDIS_URL to a disposable Redis database.',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'report-jobs-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;

  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
    args.push('--appendonly', options.appendOnly ? 'yes' : 'no', '--appendfsync', 'always');
    args.push(...(options.serverArgs ?? []));
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    server = child;
    const probe = client(url);
    try {
      await waitFor('redis-server to answer PING', async () => (await probe.ping()) === 'PONG');
    } finally {
      clients.splice(clients.indexOf(probe), 1);
      probe.disconnect();
    }
  };
  const stop = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url,
    owned: true,
    stop,
    start,
    client: () => client(url),
    close: async () => {
      await closeClients();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
