import { setTimeout as sleep } from 'node:timers/promises';
import { fillQueue, QUEUE_NAME } from './jobs.mjs';
import { startWorkers } from './systems.mjs';

const STALL_TIMEOUT_MS = 60_000;

/**
 * Worker throughput on a pre-filled queue. The queue is paused while the jobs are added
 * and the workers boot, and resumed once every worker is ready: the clock then covers
 * draining only, not process start-up (Nest boots far slower than a bare script, which
 * would otherwise dominate a short run). The clock stops at the newest finishedOn stamp
 * (the completed set's score), exact to the millisecond whatever the polling period.
 */
export async function measureThroughput({ system, redis, queue, template, logDir, workerCount, jobs }) {
  await redis.reset();
  await queue.pause();
  await fillQueue(queue, template, jobs);
  const workers = await startWorkers(system, redis.url, logDir, workerCount, `throughput${workerCount}`);
  try {
    const startedAt = Date.now();
    await queue.resume();
    const completedKey = `bull:${QUEUE_NAME}:completed`;
    const failedKey = `bull:${QUEUE_NAME}:failed`;
    let done = 0;
    let lastProgressAt = Date.now();
    while (done < jobs) {
      await sleep(20);
      const [completed, failed] = await Promise.all([redis.admin.zcard(completedKey), redis.admin.zcard(failedKey)]);
      if (failed > 0) throw new Error(`${failed} job(s) failed during the ${system.label} throughput run`);
      if (completed > done) lastProgressAt = Date.now();
      done = completed;
      if (Date.now() - lastProgressAt > STALL_TIMEOUT_MS) {
        throw new Error(`${system.label} workers stalled at ${done} of ${jobs} jobs`);
      }
      for (const worker of workers) {
        const dead = worker.deadReason();
        if (dead) throw new Error(`${worker.name} ${dead} during the throughput run:\n${worker.logTail()}`);
      }
    }
    const [, lastFinishedOn] = await redis.admin.zrange(completedKey, -1, -1, 'WITHSCORES');
    const seconds = (Number(lastFinishedOn) - startedAt) / 1000;
    const peakRssMiB = Math.max(...workers.map((worker) => worker.memory.peakMiB()));
    return { workers: workerCount, jobs, seconds, jobsPerSec: jobs / seconds, peakRssMiB };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}
