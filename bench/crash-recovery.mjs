#!/usr/bin/env node
/**
 * How long a job held by a worker that dies (SIGKILL) takes to run again on another
 * worker, with the built apps at their default settings (or WORKER_LOCK_DURATION_MS from
 * the environment). Each trial: one worker takes a long job, a second worker is ready,
 * the first is killed, and the time until the job's next attempt starts (its `ats`
 * count reaching 2) is measured. Prints every trial and the min/max.
 *
 *   npm run build && node bench/crash-recovery.mjs [--trials 5]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, startProcess, stopAll, waitReady, waitUntil } from './lib/processes.mjs';
import { provideRedis } from './lib/redis.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const API_MAIN = join(ROOT, 'dist/apps/api/apps/api/src/main.js');
const WORKER_MAIN = join(ROOT, 'dist/apps/worker/apps/worker/src/main.js');

const { values } = parseArgs({ options: { trials: { type: 'string', default: '5' } } });
const trials = Number(values.trials);
const logDir = mkdtempSync(join(tmpdir(), 'report-jobs-crash-recovery-'));
const lockSetting = process.env.WORKER_LOCK_DURATION_MS;

function appEnv(redisUrl, extra) {
  const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', REDIS_URL: redisUrl, ...extra };
  if (lockSetting) env.WORKER_LOCK_DURATION_MS = lockSetting;
  return env;
}

async function startApp(kind, redisUrl, name) {
  const port = await freePort();
  const extra = kind === 'api' ? { PORT: String(port), HOST: '127.0.0.1', ALLOW_ANONYMOUS: 'true' } : { WORKER_HEALTH_PORT: String(port), WORKER_SHUTDOWN_GRACE_MS: '0' };
  const proc = startProcess({
    name,
    command: process.execPath,
    args: [kind === 'api' ? API_MAIN : WORKER_MAIN],
    env: appEnv(redisUrl, extra),
    logFile: join(logDir, `${name}.log`),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, url);
  return { proc, url };
}

const redis = await provideRedis(logDir);
const seconds = [];
try {
  for (let trial = 1; trial <= trials; trial++) {
    await redis.reset();
    const api = await startApp('api', redis.url, `api-${trial}`);
    const doomed = await startApp('worker', redis.url, `doomed-${trial}`);
    const response = await fetch(`${api.url}/api/jobs/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: 'crash-recovery', delay_seconds: 600 }),
    });
    const { instanceId } = await response.json();
    const jobKey = `bull:reports:${instanceId}`;
    const attemptsStarted = async () => Number((await redis.admin.hget(jobKey, 'ats')) ?? 0);
    await waitUntil(doomed.proc, 'taking the job', async () => (await attemptsStarted()) === 1);
    const survivor = await startApp('worker', redis.url, `survivor-${trial}`);

    const killedAt = performance.now();
    doomed.proc.child.kill('SIGKILL');
    await waitUntil(survivor.proc, 'running the job again', async () => (await attemptsStarted()) >= 2, 120_000);
    const elapsed = (performance.now() - killedAt) / 1000;
    seconds.push(elapsed);
    console.log(`trial ${trial}: active on the other worker ${elapsed.toFixed(1)} s after the SIGKILL`);
    await Promise.all([survivor.proc.stop(), api.proc.stop()]);
  }
  const setting = lockSetting ? `WORKER_LOCK_DURATION_MS=${lockSetting}` : 'default WORKER_LOCK_DURATION_MS';
  console.log(`${setting}, ${trials} trials: min ${Math.min(...seconds).toFixed(1)} s, max ${Math.max(...seconds).toFixed(1)} s`);
} finally {
  await stopAll();
  await redis.stop();
}
