import { alternate, medianRun } from './alternate.mjs';
import { measureEndToEnd, summarize } from './e2e.mjs';
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

/** a. POST throughput and latency, alternating; no worker runs, so the queues just grow. */
async function measurePost(sides, settings) {
  const request = (side) => ({ url: `${side.api.url}/api/jobs/reports`, method: 'POST', body: ZERO_DELAY_INPUT });
  for (const side of sides) await runLoad({ ...request(side), seconds: settings.warmupSeconds }); // JIT warm-up, not recorded
  const runs = await alternate(sides, settings.rounds, (side) => runLoad({ ...request(side), seconds: settings.loadSeconds }));
  for (const side of sides) side.result.post = { ...medianRun(runs.get(side), 'reqPerSec'), runs: runs.get(side).map((run) => run.reqPerSec) };
}

/**
 * b. Status reads of the newest and of the oldest waiting job (the oldest is the next a
 * worker takes, the one clients of a busy service wait on), first with a near-empty
 * queue, then behind a large backlog, each from freshly flushed Redis servers.
 */
async function measureStatus(sides, settings) {
  for (const side of sides) side.result.status = {};
  for (const [name, size] of [
    ['nearEmpty', settings.nearEmptyQueue],
    ['backlog', settings.backlog],
  ]) {
    progress(`  filling ${size} waiting jobs on each side`);
    const ids = new Map();
    for (const side of sides) {
      await side.redis.reset();
      ids.set(side, await fillQueue(side.queue, side.template, size));
    }
    const statusUrl = (side, which) => `${side.api.url}/api/jobs/reports/${ids.get(side)[which]}`;
    if (name === 'nearEmpty') for (const side of sides) await runLoad({ url: statusUrl(side, 'newest'), seconds: settings.warmupSeconds });
    progress(`  GET status, ${name} queue`);
    for (const side of sides) side.result.status[name] = { size };
    for (const which of ['newest', 'oldest']) {
      const runs = await alternate(sides, settings.rounds, (side) => runLoad({ url: statusUrl(side, which), seconds: settings.loadSeconds }));
      for (const side of sides) side.result.status[name][which] = { ...medianRun(runs.get(side), 'reqPerSec'), runs: runs.get(side).map((run) => run.reqPerSec) };
    }
  }
}

/** c. End-to-end latency through each API with one idle worker each, in alternating chunks of jobs. */
async function measureLatency(sides, logDir, settings) {
  const workers = new Map();
  for (const side of sides) {
    await side.redis.reset();
    const [worker] = await startWorkers(side.system, side.redis.url, logDir, 1, 'e2e');
    workers.set(side, worker);
    side.result.workerBootRssMiB = worker.memory.peakMiB();
  }
  try {
    const chunk = Math.ceil(settings.e2eJobs / settings.rounds);
    const runs = await alternate(sides, settings.rounds, (side, round) =>
      measureEndToEnd(side.api.url, side.redis.admin, { warmupJobs: round === 0 ? settings.e2eWarmupJobs : 0, jobs: chunk }),
    );
    for (const side of sides) {
      const observed = runs.get(side).flatMap((run) => run.samples.observed);
      const finished = runs.get(side).flatMap((run) => run.samples.finished);
      side.result.e2e = { jobs: observed.length, observed: summarize(observed), toFinishedOn: summarize(finished), workerBootRssMiB: side.result.workerBootRssMiB };
    }
  } finally {
    await Promise.all([...workers.values()].map((worker) => worker.stop()));
  }
}

/** d. Worker throughput with 1, then 2 processes, alternating runs of each side. */
async function measureWorkers(sides, logDir, settings) {
  for (const side of sides) side.result.throughput = {};
  for (const workerCount of [1, 2]) {
    progress(`worker throughput, ${workerCount} worker(s), ${settings.throughputJobs} jobs, ${settings.rounds} alternating runs`);
    const runs = await alternate(sides, settings.rounds, (side) =>
      measureThroughput({
        system: side.system,
        redis: side.redis,
        queue: side.queue,
        template: side.template,
        logDir,
        workerCount,
        jobs: settings.throughputJobs,
      }),
    );
    for (const side of sides) {
      const median = medianRun(runs.get(side), 'jobsPerSec');
      side.result.throughput[workerCount] = { ...median, runs: runs.get(side).map((run) => run.jobsPerSec) };
    }
  }
  // e. The worker's peak is taken under the throughput runs, the heaviest it sees.
  for (const side of sides) {
    side.result.workerPeakRssMiB = Math.max(...Object.values(side.result.throughput).map((run) => run.peakRssMiB));
  }
}

/**
 * Every figure of both systems (ours and the baseline), each on a Redis server of its own,
 * phase by phase; the phases whose figures are rates alternate between the systems.
 * Answers each system's results by label.
 */
export async function measureSystems(systems, redisBySystem, { settings, logDir }) {
  const sides = systems.map((system) => ({ system, redis: redisBySystem[system.label], result: { system: system.label } }));
  for (const side of sides) Object.assign(side, openQueue(side.redis.url));
  try {
    for (const side of sides) {
      await side.redis.reset();
      progress(`${side.system.label}: starting the API`);
      side.api = await startApi(side.system, side.redis.url, logDir);
      // Its weight before any load, to tell start-up weight from growth under load.
      side.result.apiBootRssMiB = side.api.memory.peakMiB();
      side.template = await templateJob(side.api, side.queue);
      side.result.jobTemplate = side.template; // in latest.json, to see what the backlog was made of
    }
    try {
      progress(`POST enqueue, ${settings.rounds} alternating runs`);
      await measurePost(sides, settings);
      await measureStatus(sides, settings);
      progress(`end-to-end latency, ${settings.e2eJobs} jobs per side`);
      await measureLatency(sides, logDir, settings);
      for (const side of sides) {
        progress(`${side.system.label}: Redis memory per retained completed job, ${settings.retainedJobs} jobs`);
        side.result.retained = await measureRetainedMemory({ system: side.system, api: side.api, redis: side.redis, logDir, jobs: settings.retainedJobs });
        // e. The API's peak covers all of its load: POSTs, status reads, e2e polling, the retained jobs.
        side.result.apiPeakRssMiB = side.api.memory.peakMiB();
      }
    } catch (error) {
      // A load run fails with connection errors when an API died under it: say so.
      const dead = sides.find((side) => side.api?.deadReason());
      if (!dead) throw error;
      throw new Error(`${dead.api.name} ${dead.api.deadReason()} (${error.message}); end of ${dead.api.logFile}:\n${dead.api.logTail(5)}`, {
        cause: error,
      });
    } finally {
      await Promise.all(sides.map((side) => side.api?.stop()));
    }

    await measureWorkers(sides, logDir, settings);

    const ours = sides.find((side) => side.system.label === 'ours');
    if (ours) {
      progress(`ours: metrics on vs off, ${settings.metricsRounds} alternating runs each`);
      ours.result.metricsCost = await measureMetricsCost({
        system: ours.system,
        redis: ours.redis,
        logDir,
        rounds: settings.metricsRounds,
        seconds: settings.metricsSeconds,
      });
      ours.result.sse = await measureStreams(ours.system, ours.redis, logDir, settings);
    }
    return Object.fromEntries(sides.map((side) => [side.system.label, side.result]));
  } finally {
    await Promise.all(sides.map((side) => side.close()));
  }
}

/** f. Event streams (ours only: the baseline has none), on an API process of their own. */
export async function measureStreams(system, redis, logDir, settings) {
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
