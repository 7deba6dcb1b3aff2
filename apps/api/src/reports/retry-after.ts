import type { JobSnapshot } from '@report-jobs/queue';
import type { ReportJobData, ReportProgress } from '@report-jobs/contract';

export const MIN_RETRY_AFTER_SECONDS = 1;
export const MAX_RETRY_AFTER_SECONDS = 30;

const clamp = (seconds: number) =>
  Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, Math.ceil(seconds)));

/**
 * How long a client should wait before polling again, from what the job tells us:
 * the next retry time between attempts, the remaining simulated work of a running
 * attempt (from its progress rate when it reports one), or the whole work of a job
 * that has not started. Bounded so clients neither hammer nor wait long after the end.
 */
export function retryAfterSeconds(snapshot: JobSnapshot, now: number): number {
  if (snapshot.dueAt !== undefined && snapshot.dueAt > now) {
    return clamp((snapshot.dueAt - now) / 1000);
  }
  const workSeconds = (snapshot.data as Partial<ReportJobData> | undefined)?.input?.delay_seconds ?? 0;
  if (snapshot.state === 'active' && snapshot.processedOn !== undefined) {
    const elapsed = (now - snapshot.processedOn) / 1000;
    const progress = (snapshot.progress as Partial<ReportProgress> | undefined)?.progress ?? 0;
    const remaining =
      progress > 0 && progress < 100 ? (elapsed * (100 - progress)) / progress : workSeconds - elapsed;
    return clamp(remaining);
  }
  return clamp(workSeconds);
}

/** Retry-After of a job that has just been accepted. */
export function retryAfterForNewJob(delaySeconds: number): number {
  return clamp(delaySeconds);
}
