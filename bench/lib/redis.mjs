import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startProcess, waitUntil } from './processes.mjs';

function adminClient(url) {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // failures surface through the commands themselves
  return client;
}

/**
 * A Redis the benchmark runs one system against: a private redis-server without
 * persistence on a free port, or with REDIS_URL set, a database of that server (the
 * URL's, plus `databaseOffset`: each system gets one of its own). Every phase starts from
 * an empty database through `reset()`: FLUSHALL on our own server, FLUSHDB on a given one
 * (its other databases are not ours to wipe).
 */
export async function provideRedis(logDir, { label = 'redis', databaseOffset = 0 } = {}) {
  let given = process.env.REDIS_URL;
  if (given && databaseOffset > 0) {
    const url = new URL(given);
    url.pathname = `/${Number(url.pathname.slice(1) || 0) + databaseOffset}`;
    given = url.toString();
  }
  if (given) {
    console.warn(`warning: REDIS_URL is set: using ${given} and FLUSHDB-ing it before every phase`);
    const admin = adminClient(given);
    await admin.flushdb();
    return {
      url: given,
      owned: false,
      admin,
      reset: () => admin.flushdb(),
      version: () => serverVersion(admin),
      stop: async () => {
        await admin.flushdb().catch(() => undefined); // leave the given database as empty as it was made
        await admin.quit().catch(() => admin.disconnect());
      },
    };
  }

  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not on PATH: install it (apt-get install redis-server) or set REDIS_URL');
  }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const server = startProcess({
    name: 'redis-server',
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    env: { PATH: process.env.PATH ?? '' },
    logFile: join(logDir, `redis-server-${label}.log`),
  });
  const admin = adminClient(url);
  await waitUntil(server, 'answering PING', async () => (await admin.ping()) === 'PONG');
  return {
    url,
    owned: true,
    admin,
    reset: () => admin.flushall(),
    version: () => serverVersion(admin),
    stop: async () => {
      admin.disconnect();
      await server.stop();
    },
  };
}

async function serverVersion(admin) {
  const info = await admin.info('server');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}
