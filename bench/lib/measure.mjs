import { measureEndToEnd } from './e2e.mjs';
import { measureEventStreams } from './event-streams.mjs';
import { runLoad } from './http-load.mjs';
import { captureTemplate, fillQueue, openQueue, ZERO_DELAY_INPUT } from './jobs.mjs';
import { measureMetricsCost } from './metrics-cost.mjs';
import { measureRetainedMemory } from './retained-memory.mjs';
import { CLIENT_HEADERS, startApi, startWorkers } from './systems.mjs';
import { measureThroughput } from './throughput.mjs';

/** Progress goes to stderr so that stdout carries only the result table. */
const progress = (message) => console.error(`[bench] ${message}`);

/** Creates one job through the API and returns it as the template of directly filled jobs. */
async function templateJob(api, queue) {
  const response = await fetch(`${api.url}/api/jobs/reports`, {
    method: 'POST',
    headers: { ...CLIENT_HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify(ZERO_DELAY_INPUT),
  });
  const body = await response.json();
  if (response.status !== 202) throw new Error(`POST answered ${response.status}: ${JSON.stringify(body)}`);
  return captureTemplate(queue, body.instanceId);
}

/** a. POST throughput and latency; no worker runs, so the queue just grows. */
async function measurePost(api, settings) {
  const url = `${api.url}/api/jobs/reports`;
  const request = { url, method: 'POST', body: ZERO_DELAY_INPUT };
  await runLoad({ ...request, seconds: settings.warmupSeconds }); // JIT warm-up, not recorded
  return runLoad({ ...request, seconds: settings.loadSeconds });
}

/**
 * b. Status reads of the newest and of the oldest waiting job (the oldest is the next a
 * worker takes, the one clients of a busy service wait on), first with a near-empty
 * queue, then behind a large backlog, each from a freshly flushed Redis.
 */
async function measureStatus(api, queue, template, redis, settings) {
  const results = {};
  const queues = [
    ['nearEmpty', settings.nearEmptyQueue],
    ['backlog', settings.backlog],
  ];
  for (const [name, size] of queues) {
    await redis.reset();
    progress(`  filling ${size} waiting jobs`);
    const { oldest, newest } = await fillQueue(queue, template, size);
    const statusUrl = (id) => `${api.url}/api/jobs/reports/${id}`;
    if (name === 'nearEmpty') await runLoad({ url: statusUrl(newest), seconds: settings.warmupSeconds });
    progress(`  GET status, ${name} queue`);
    results[name] = {
      size,
      newest: await runLoad({ url: statusUrl(newest), seconds: settings.loadSeconds }),
      oldest: await runLoad({ url: statusUrl(oldest), seconds: settings.loadSeconds }),
    };
  }
  return results;
}

/** c. End-to-end latency through the API with one idle worker. */
async function measureLatency(system, api, redis, logDir, settings) {
  await redis.reset();
  const [worker] = await startWorkers(system, redis.url, logDir, 1, 'e2e');
  const workerBootRssMiB = worker.memory.peakMiB();
  try {
    const latency = await measureEndToEnd(api.url, redis.admin, { warmupJobs: settings.e2eWarmupJobs, jobs: settings.e2eJobs });
    return { ...latency, workerBootRssMiB };
  } finally {
    await worker.stop();
  }
}

/** f. Event streams (ours only: the baseline has none), on an API process of their own. */
async function measureStreams(system, redis, logDir, settings) {
  if (system.label !== 'ours') return undefined;
  progress(`${system.label}: ${settings.sseStreams} event streams, ${settings.sseReports} progress reports per job`);
  return measureEventStreams({
    system,
    redis,
    logDir,
    streams: settings.sseStreams,
    reports: settings.sseReports,
    intervalMs: settings.sseIntervalMs,
  });
}

/** Every figure of one system (ours or the baseline), phases in a fixed order. */
export async function measureSystem(system, { redis, settings, logDir }) {
  const result = { system: system.label };
  if (settings.sseOnly) {
    result.sse = await measureStreams(system, redis, logDir, settings);
    return result;
  }
  const { queue, close } = openQueue(redis.url);
  try {
    await redis.reset();
    progress(`${system.label}: starting the API`);
    const api = await startApi(system, redis.url, logDir);
    // Its weight before any load, to tell start-up weight from growth under load.
    result.apiBootRssMiB = api.memory.peakMiB();
    let template;
    try {
      template = await templateJob(api, queue);
      result.jobTemplate = template; // in latest.json, to see what the backlog was made of
      progress(`${system.label}: POST enqueue`);
      result.post = await measurePost(api, settings);
      result.status = await measureStatus(api, queue, template, redis, settings);
      progress(`${system.label}: end-to-end latency, ${settings.e2eJobs} jobs`);
      result.e2e = await measureLatency(system, api, redis, logDir, settings);
      progress(`${system.label}: Redis memory per retained completed job, ${settings.retainedJobs} jobs`);
      result.retained = await measureRetainedMemory({ system, api, redis, logDir, jobs: settings.retainedJobs });
      // e. The API's peak covers all of its load: POSTs, status reads, e2e polling.
      result.apiPeakRssMiB = api.memory.peakMiB();
    } catch (error) {
      // A load run fails with connection errors when the API died under it: say so.
      const dead = api.deadReason();
      if (!dead) throw error;
      throw new Error(`${api.name} ${dead} (${error.message}); end of ${api.logFile}:\n${api.logTail(5)}`, { cause: error });
    } finally {
      await api.stop();
    }

    result.throughput = {};
    for (const workerCount of [1, 2]) {
      progress(`${system.label}: worker throughput, ${workerCount} worker(s), ${settings.throughputJobs} jobs`);
      result.throughput[workerCount] = await measureThroughput({
        system,
        redis,
        queue,
        template,
        logDir,
        workerCount,
        jobs: settings.throughputJobs,
      });
    }
    // e. The worker's peak is taken under the throughput runs, the heaviest it sees.
    result.workerPeakRssMiB = Math.max(...Object.values(result.throughput).map((run) => run.peakRssMiB));
    if (system.label === 'ours') {
      progress(`${system.label}: metrics on vs off, ${settings.metricsRounds} alternating runs each`);
      result.metricsCost = await measureMetricsCost({ system, redis, logDir, rounds: settings.metricsRounds, seconds: settings.metricsSeconds });
    }
    result.sse = await measureStreams(system, redis, logDir, settings);
    return result;
  } finally {
    await close();
  }
}
