#!/usr/bin/env node
/**
 * CPU and resident memory of the built API and worker, idle and under a modest load: the
 * figures the Kubernetes requests and limits (deploy/kubernetes) and the capacity model
 * (docs/scaling.md) are derived from. About a minute and a half:
 *
 *   npm run build && node bench/pod-resources.mjs
 *
 * Phases, each on one API and one worker (NODE_ENV=production, LOG_LEVEL=info) and a
 * private Redis: idle; POSTs of zero-delay jobs that the worker runs as they arrive; status
 * GETs; a burst of queued zero-delay jobs drained by the worker. CPU is read from
 * /proc/<pid>/stat (user + system time), memory is VmRSS sampled every 100 ms. The load
 * generator, the apps and Redis share the machine, so CPU per request is the useful
 * figure; the absolute request rates are not capacities. Redis' used_memory before and after
 * gives the memory a retained job costs: jobs made through the API (with the API's index
 * entries) and the burst's clones of one.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { captureTemplate, fillQueue, openQueue, QUEUE_NAME, ZERO_DELAY_INPUT } from './lib/jobs.mjs';
import { stopAll } from './lib/processes.mjs';
import { provideRedis } from './lib/redis.mjs';
import { CLIENT_HEADERS, snapshotBuild, startApi, startWorkers, SYSTEMS } from './lib/systems.mjs';

const LOGS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'logs');
const IDLE_SECONDS = 10;
const LOAD_SECONDS = 20;
/** A modest load: a tenth of the main benchmark's 50 connections. */
const CONNECTIONS = 10;
const BURST_JOBS = 20_000;
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** User + system CPU time of a process so far, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * Runs `during` while watching the processes: their average CPU (in cores) over the
 * window, their memory at its end and their peak memory within it.
 */
async function observe(processes, during) {
  const pids = Object.fromEntries(Object.entries(processes).map(([name, proc]) => [name, proc.child.pid]));
  const peak = Object.fromEntries(Object.keys(pids).map((name) => [name, 0]));
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) peak[name] = Math.max(peak[name], rssMiB(pid));
  };
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const startedAt = performance.now();
  const timer = setInterval(sample, 100);
  sample();
  let outcome;
  try {
    outcome = await during();
  } finally {
    clearInterval(timer);
  }
  sample();
  const seconds = (performance.now() - startedAt) / 1000;
  const usage = {};
  for (const [name, pid] of Object.entries(pids)) {
    const cpu = cpuSeconds(pid) - cpuBefore[name];
    usage[name] = { cpuCores: cpu / seconds, cpuSeconds: cpu, rssMiB: rssMiB(pid), peakRssMiB: peak[name] };
  }
  return { seconds, usage, outcome };
}

async function load(request) {
  const result = await autocannon({
    connections: CONNECTIONS,
    duration: LOAD_SECONDS,
    ...request,
    headers: { ...CLIENT_HEADERS, ...(request.body ? { 'content-type': 'application/json' } : {}) },
  });
  if (result['2xx'] === 0) throw new Error(`${request.method ?? 'GET'} ${request.url}: no 2xx answer`);
  return { requests: result['2xx'], reqPerSec: result.requests.average, non2xx: result.non2xx, errors: result.errors };
}

/** Redis' own count of the memory it uses for data, in bytes. */
async function redisUsedBytes(redis) {
  return Number(/^used_memory:(\d+)/m.exec(await redis.admin.info('memory'))[1]);
}

async function waitForCompleted(redis, count) {
  const key = `bull:${QUEUE_NAME}:completed`;
  while ((await redis.admin.zcard(key)) < count) await sleep(50);
}

async function main() {
  snapshotBuild();
  mkdirSync(LOGS, { recursive: true });
  const redis = await provideRedis(LOGS);
  const { queue, close } = openQueue(redis.url);
  try {
    const api = await startApi(SYSTEMS.ours, redis.url, LOGS);
    const [worker] = await startWorkers(SYSTEMS.ours, redis.url, LOGS, 1, 'resources');
    const apps = { api, worker };
    const results = { connections: CONNECTIONS, loadSeconds: LOAD_SECONDS, burstJobs: BURST_JOBS };

    console.error('[resources] idle');
    results.idle = await observe(apps, () => sleep(IDLE_SECONDS * 1000));

    console.error('[resources] POST zero-delay jobs, run by the worker as they arrive');
    const jobsUrl = `${api.url}/api/jobs/reports`;
    const emptyBytes = await redisUsedBytes(redis);
    results.post = await observe(apps, async () => {
      const outcome = await load({ url: jobsUrl, method: 'POST', body: JSON.stringify(ZERO_DELAY_INPUT) });
      await waitForCompleted(redis, outcome.requests);
      return outcome;
    });
    results.post.redisBytesPerCompletedJob = ((await redisUsedBytes(redis)) - emptyBytes) / results.post.outcome.requests;

    console.error('[resources] GET status');
    const created = await fetch(jobsUrl, {
      method: 'POST',
      headers: { ...CLIENT_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify(ZERO_DELAY_INPUT),
    }).then((response) => response.json());
    results.status = await observe(apps, () => load({ url: `${jobsUrl}/${created.instanceId}` }));

    console.error(`[resources] burst of ${BURST_JOBS} queued jobs through the worker`);
    const template = await captureTemplate(queue, created.instanceId);
    await redis.reset();
    await queue.pause();
    const flushedBytes = await redisUsedBytes(redis);
    await fillQueue(queue, template, BURST_JOBS);
    const waitingBytes = (await redisUsedBytes(redis)) - flushedBytes;
    results.burst = await observe(apps, async () => {
      await queue.resume();
      await waitForCompleted(redis, BURST_JOBS);
    });
    results.burst.redisBytesPerWaitingJob = waitingBytes / BURST_JOBS;
    results.burst.redisBytesPerCompletedJob = ((await redisUsedBytes(redis)) - flushedBytes) / BURST_JOBS;

    results.machine = { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model.trim(), loadAverage: os.loadavg(), node: process.version };
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await close();
    await stopAll();
    await redis.stop();
  }
}

try {
  await main();
} catch (error) {
  console.error(`[resources] failed: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
process.exit(process.exitCode ?? 0);
