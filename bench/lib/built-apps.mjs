import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, waitReady } from './processes.mjs';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const MAINS = {
  api: join(ROOT, 'dist/apps/api/apps/api/src/main.js'),
  worker: join(ROOT, 'dist/apps/worker/apps/worker/src/main.js'),
};

/** Far above what one client sends here, so that no submit is refused, yet counted as in production. */
export const NEVER_LIMITED = { RATE_LIMIT_SUBMITS_PER_MINUTE: '1000000000', RATE_LIMIT_READS_PER_MINUTE: '1000000000' };

/**
 * Starts the built API or a built worker (npm run build) with `env` (the Redis settings
 * among it) and waits until it is ready. Production settings, no API key (anonymous
 * callers), logs in `logDir`.
 */
export async function startBuiltApp(kind, env, { name, logDir }) {
  const port = await freePort();
  const own =
    kind === 'api'
      ? { PORT: String(port), HOST: '127.0.0.1', METRICS_PORT: String(await freePort()), ALLOW_ANONYMOUS: 'true', ...NEVER_LIMITED }
      : { WORKER_HEALTH_PORT: String(port) };
  const proc = startProcess({
    name,
    command: process.execPath,
    args: [MAINS[kind]],
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...own, ...env },
    logFile: join(logDir, `${name}.log`),
  });
  proc.url = `http://127.0.0.1:${port}`;
  await waitReady(proc, proc.url);
  return proc;
}

/** The built queue library (dist/), for the shard prefixes the apps use. */
export async function builtQueueLibrary() {
  const { createRequire } = await import('node:module');
  return createRequire(import.meta.url)(join(ROOT, 'dist/apps/worker/libs/queue/src/index.js'));
}
