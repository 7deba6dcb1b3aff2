import type { JobsOptions } from 'bullmq';

export interface JobPolicy {
  attempts: number;
  backoffMs: number;
}

/**
 * BullMQ options every report job is added with. The instance id is the job id, so
 * the status URL addresses the job directly. There is no removeOnComplete/removeOnFail:
 * the worker's retention sweeper removes finished jobs itself, leaving a record behind
 * so that their status URL answers 410 Gone rather than 404.
 */
export function reportJobOptions(instanceId: string, createdAt: number, policy: JobPolicy): JobsOptions {
  return {
    jobId: instanceId,
    timestamp: createdAt,
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs },
  };
}
