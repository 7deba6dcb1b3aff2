import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, waitReady } from './processes.mjs';

const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));
const ROOT = dirname(BENCH);

/**
 * The two systems measured side by side: the built apps, and the minimal Fastify +
 * BullMQ baseline under bench/baseline. Both read the same environment variables.
 */
export const SYSTEMS = {
  ours: {
    label: 'ours',
    apiMain: join(ROOT, 'dist/apps/api/apps/api/src/main.js'),
    workerMain: join(ROOT, 'dist/apps/worker/apps/worker/src/main.js'),
  },
  baseline: {
    label: 'baseline',
    apiMain: join(BENCH, 'baseline/server.mjs'),
    workerMain: join(BENCH, 'baseline/worker.mjs'),
  },
};

export function assertBuilt() {
  const missing = [SYSTEMS.ours.apiMain, SYSTEMS.ours.workerMain].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(`${missing.join(' and ')} missing: run npm run build first`);
  }
}

/**
 * Environment of every app process: only what the apps read, so the figures do not
 * depend on the caller's shell. LOG_LEVEL=info is the apps' default, what users run:
 * log writing is part of what is measured.
 */
function appEnv(redisUrl, extra) {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: redisUrl,
    ...extra,
  };
}

export async function startApi(system, redisUrl, logDir) {
  const port = await freePort();
  const proc = startProcess({
    name: `${system.label} API`,
    command: process.execPath,
    args: [system.apiMain],
    env: appEnv(redisUrl, { PORT: String(port), HOST: '127.0.0.1' }),
    logFile: join(logDir, `${system.label}-api.log`),
  });
  proc.url = `http://127.0.0.1:${port}`;
  await waitReady(proc, proc.url);
  return proc;
}

/** Starts `count` worker processes side by side and waits until each is ready. */
export async function startWorkers(system, redisUrl, logDir, count, tag) {
  const workers = [];
  for (let i = 1; i <= count; i++) {
    const port = await freePort();
    const proc = startProcess({
      name: `${system.label} worker ${i}`,
      command: process.execPath,
      args: [system.workerMain],
      env: appEnv(redisUrl, { WORKER_HEALTH_PORT: String(port) }),
      logFile: join(logDir, `${system.label}-worker-${tag}-${i}.log`),
    });
    proc.url = `http://127.0.0.1:${port}`;
    workers.push(proc);
  }
  await Promise.all(workers.map((proc) => waitReady(proc, proc.url)));
  return workers;
}
