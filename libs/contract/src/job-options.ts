import type { JobsOptions } from 'bullmq';

export interface JobPolicy {
  attempts: number;
  backoffMs: number;
  completedRetentionSeconds: number;
  failedRetentionSeconds: number;
}

/**
 * BullMQ options every report job is added with. The instance id is the job id, so
 * the status URL addresses the job directly.
 */
export function reportJobOptions(instanceId: string, policy: JobPolicy): JobsOptions {
  return {
    jobId: instanceId,
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs },
    removeOnComplete: { age: policy.completedRetentionSeconds },
    removeOnFail: { age: policy.failedRetentionSeconds },
  };
}
