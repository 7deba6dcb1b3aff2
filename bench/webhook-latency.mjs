#!/usr/bin/env node
/**
 * How soon a webhook follows the end of its job, with the built apps: one API, one worker
 * and a local receiver that answers 204. Zero-second jobs with a callback_url are submitted
 * a few at a time; for each delivery the receiver notes the time from the job's end (the
 * event's `timestamp`, written from the job's finishedOn) and from the submit. Prints the
 * percentiles of both.
 *
 *   npm run build && node bench/webhook-latency.mjs [--jobs 300] [--parallel 10]
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, startProcess, stopAll, waitReady } from './lib/processes.mjs';
import { provideRedis } from './lib/redis.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MAINS = { api: join(ROOT, 'dist/apps/api/apps/api/src/main.js'), worker: join(ROOT, 'dist/apps/worker/apps/worker/src/main.js') };

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '300' }, parallel: { type: 'string', default: '10' } } });
const jobs = Number(values.jobs);
const parallel = Number(values.parallel);
const logDir = mkdtempSync(join(tmpdir(), 'report-jobs-webhook-latency-'));
const webhooks = {
  WEBHOOK_SECRETS: `anonymous:whsec_${randomBytes(32).toString('base64')}`,
  WEBHOOK_ALLOW_INSECURE: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
};

async function startApp(kind, redisUrl) {
  const port = await freePort();
  const extra = kind === 'api' ? { PORT: String(port), METRICS_PORT: '0', HOST: '127.0.0.1', ALLOW_ANONYMOUS: 'true', RATE_LIMIT_SUBMITS_PER_MINUTE: '0' } : { WORKER_HEALTH_PORT: String(port) };
  const proc = startProcess({
    name: kind,
    command: process.execPath,
    args: [MAINS[kind]],
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'warn', REDIS_URL: redisUrl, ...webhooks, ...extra },
    logFile: join(logDir, `${kind}.log`),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, url);
  return url;
}

const submittedAt = new Map();
const receivedAt = new Map();
const fromEnd = [];
let allReceived;
const done = new Promise((resolve) => (allReceived = resolve));
const receiver = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const now = Date.now();
    const event = JSON.parse(Buffer.concat(chunks).toString());
    fromEnd.push(now - Date.parse(event.timestamp));
    // A webhook can arrive before its submit's answer is read: compared once all are in.
    receivedAt.set(event.data.instanceId, now);
    response.writeHead(204).end();
    if (fromEnd.length === jobs) allReceived();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const callbackUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

const redis = await provideRedis(logDir);
try {
  await redis.reset();
  const [api] = await Promise.all([startApp('api', redis.url), startApp('worker', redis.url)]);
  let next = 0;
  const submitter = async () => {
    while (next < jobs) {
      next++;
      const started = Date.now(); // before the POST: the job cannot end earlier
      const response = await fetch(`${api}/api/jobs/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer_id: 'webhook-latency', delay_seconds: 0, callback_url: callbackUrl }),
      });
      submittedAt.set((await response.json()).instanceId, started);
    }
  };
  await Promise.all(Array.from({ length: parallel }, submitter));
  let deadline;
  const tooLate = new Promise((_, reject) => {
    deadline = setTimeout(() => reject(new Error(`only ${fromEnd.length} of ${jobs} webhooks arrived`)), 60_000);
  });
  // Cleared once the webhooks are in, so the script ends then rather than a minute later.
  await Promise.race([done, tooLate]).finally(() => clearTimeout(deadline));
  const fromSubmit = [...receivedAt].map(([instanceId, at]) => at - submittedAt.get(instanceId));
  const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];
  const line = (what, values) => `${what}: p50 ${percentile(values, 50)} ms, p95 ${percentile(values, 95)} ms, p99 ${percentile(values, 99)} ms, max ${Math.max(...values)} ms`;
  console.log(`${jobs} zero-second jobs with a callback, ${parallel} submitted at a time`);
  console.log(line('job end → webhook received', fromEnd));
  console.log(line('submit → webhook received', fromSubmit));
} finally {
  receiver.close();
  await stopAll();
  await redis.stop();
}
