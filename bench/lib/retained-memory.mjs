import { setTimeout as sleep } from 'node:timers/promises';
import { QUEUE_NAME, ZERO_DELAY_INPUT } from './jobs.mjs';
import { CLIENT_HEADERS, startWorkers } from './systems.mjs';

const CONCURRENCY = 16;

async function usedMemory(admin) {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

/**
 * Redis memory per retained completed job: from an empty Redis, `jobs` zero-delay jobs are
 * submitted through the system's API (so they carry whatever it stores beside a job: its
 * listing index entries), run by one worker and kept (retention far longer than the
 * run); the figure is Redis's used_memory afterwards minus before, ÷ jobs. BullMQ's event
 * stream is part of it for both systems.
 */
export async function measureRetainedMemory({ system, api, redis, logDir, jobs }) {
  await redis.reset();
  const before = await usedMemory(redis.admin);
  let submitted = 0;
  const submitter = async () => {
    while (submitted < jobs) {
      submitted++;
      const response = await fetch(`${api.url}/api/jobs/reports`, {
        method: 'POST',
        headers: { ...CLIENT_HEADERS, 'content-type': 'application/json' },
        body: JSON.stringify(ZERO_DELAY_INPUT),
      });
      await response.arrayBuffer();
      if (response.status !== 202) throw new Error(`${system.label}: POST answered ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, submitter));
  const [worker] = await startWorkers(system, redis.url, logDir, 1, 'memory');
  try {
    const completedKey = `bull:${QUEUE_NAME}:completed`;
    const deadline = Date.now() + 120_000;
    while ((await redis.admin.zcard(completedKey)) < jobs) {
      if (Date.now() > deadline) throw new Error(`${system.label}: ${jobs} jobs did not complete within 2 minutes`);
      await sleep(50);
    }
  } finally {
    await worker.stop();
  }
  const after = await usedMemory(redis.admin);
  return { jobs, bytesPerJob: (after - before) / jobs };
}
