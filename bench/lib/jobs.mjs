import { randomUUID } from 'node:crypto';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';

// The queue contract of the service (libs/contract). Restated here rather than imported:
// the bench runs plain .mjs without a build, and these names never change by contract.
// The rest of a job's shape is not restated: it is copied from a job the API made.
export const QUEUE_NAME = 'reports';
export const JOB_NAME = 'report';

/** The body of a zero-delay job's POST. */
export const ZERO_DELAY_INPUT = { customer_id: 'cust-1', operation: 'rebuild-report', delay_seconds: 0 };

/**
 * The options the baseline adds its jobs with: 3 attempts, 1 s exponential backoff,
 * completed jobs kept a day and failed ones a week, like the service's defaults when
 * the baseline was written.
 */
export function jobOptions(jobId) {
  return {
    jobId,
    attempts: 3,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { age: 86_400 },
    removeOnFail: { age: 604_800 },
  };
}

/** A Queue on its own connection, for filling and pausing from the harness. */
export function openQueue(redisUrl) {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection });
  return {
    queue,
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}

/**
 * The name, data and options of a job the system's own API just created. Jobs filled
 * directly are cloned from it, so that they are exactly what that API makes (and what
 * its worker expects), whatever fields the API puts in them.
 */
export async function captureTemplate(queue, jobId) {
  const job = await Job.fromId(queue, jobId);
  if (!job) throw new Error(`job ${jobId} created through the API is not in queue "${QUEUE_NAME}"`);
  // The id is per job; without a timestamp option BullMQ stamps each job when added.
  const opts = { ...job.opts };
  delete opts.jobId;
  delete opts.timestamp;
  return { name: job.name, data: job.data, opts };
}

/**
 * Adds `count` waiting jobs cloned from `template` under fresh UUIDs, in addBulk
 * batches (one round trip each). Returns the ids of the first job added (the oldest,
 * next in line for a worker) and of the last one (the newest).
 */
export async function fillQueue(queue, template, count, batchSize = 1_000) {
  let oldest;
  let newest;
  for (let added = 0; added < count; added += batchSize) {
    const jobs = [];
    for (let i = 0; i < Math.min(batchSize, count - added); i++) {
      const id = randomUUID();
      jobs.push({ name: template.name, data: template.data, opts: { ...template.opts, jobId: id } });
      oldest ??= id;
      newest = id;
    }
    await queue.addBulk(jobs);
  }
  return { oldest, newest };
}
