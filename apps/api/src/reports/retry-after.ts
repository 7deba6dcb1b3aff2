import { currentProgress, type JobSnapshot } from '@report-jobs/queue';
import type { ReportJobData } from '@report-jobs/contract';

export const MIN_RETRY_AFTER_SECONDS = 1;
export const MAX_RETRY_AFTER_SECONDS = 30;

const clamp = (seconds: number) =>
  Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, Math.ceil(seconds)));

/**
 * How long a client should wait before polling again, from what the job tells us:
 * the next retry time between attempts, the remaining simulated work of a running
 * attempt (from its progress rate when it reports one), or, for a job that has not
 * started, its own work plus that of the queue ahead of it, taken as jobs of the same
 * size run `parallelism` at a time. Bounded so clients neither hammer nor wait long
 * after the end.
 */
export function retryAfterSeconds(snapshot: JobSnapshot, now: number, parallelism = 1): number {
  if (snapshot.dueAt !== undefined && snapshot.dueAt > now) {
    return clamp((snapshot.dueAt - now) / 1000);
  }
  const workSeconds = (snapshot.data as Partial<ReportJobData> | undefined)?.input?.delay_seconds ?? 0;
  if (snapshot.state === 'active' && snapshot.processedOn !== undefined) {
    const elapsed = (now - snapshot.processedOn) / 1000;
    const progress = currentProgress(snapshot)?.progress ?? 0;
    const remaining =
      progress > 0 && progress < 100 ? (elapsed * (100 - progress)) / progress : workSeconds - elapsed;
    return clamp(remaining);
  }
  const ahead = Math.max(0, (snapshot.waitingCount ?? 1) - 1);
  return clamp(workSeconds * (1 + Math.floor(ahead / Math.max(1, parallelism))));
}

/** Retry-After of a job that has just been accepted. */
export function retryAfterForNewJob(delaySeconds: number): number {
  return clamp(delaySeconds);
}
