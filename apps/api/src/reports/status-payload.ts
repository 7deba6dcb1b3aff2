import type { JobSnapshot } from '@report-jobs/queue';
import type { ReportJobData, ReportJobOutput, ReportProgress, StatusMapping } from '@report-jobs/contract';
import type { ReportOutput, StatusPayload, TerminatedOutput } from './dto/report-job.responses';

/** ISO 8601 in whole seconds, as Durable Functions writes its times. */
export const isoSeconds = (epochMs: number) => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The progress reported by the current attempt; what an earlier attempt reported (before
 * this one started) is history, not progress.
 */
export function currentProgress(snapshot: JobSnapshot): Partial<ReportProgress> | undefined {
  const progress = snapshot.progress as Partial<ReportProgress> | number | undefined;
  if (!progress || typeof progress !== 'object') return undefined;
  if (snapshot.processedOn !== undefined && (progress.updatedAt ?? 0) < snapshot.processedOn) return undefined;
  return progress;
}

/** Builds the status payload (Durable's StatusResponsePayload names) from a job snapshot. */
export function toStatusPayload(snapshot: JobSnapshot, mapping: StatusMapping): StatusPayload {
  const data = (snapshot.data ?? {}) as Partial<ReportJobData>;
  const progress = currentProgress(snapshot);
  const customStatus =
    typeof progress?.progress === 'number' ? { progress: progress.progress, message: progress.message ?? '' } : null;
  const updatedAt = Math.max(snapshot.timestamp, snapshot.processedOn ?? 0, snapshot.finishedOn ?? 0, progress?.updatedAt ?? 0);

  const payload: StatusPayload = {
    name: 'report',
    instanceId: snapshot.id,
    runtimeStatus: mapping.runtimeStatus,
    input: data.input as StatusPayload['input'],
    customStatus,
    output: outputOf(snapshot, mapping),
    createdTime: isoSeconds(snapshot.timestamp),
    lastUpdatedTime: isoSeconds(updatedAt),
    attempt: Math.max(snapshot.attemptsStarted, snapshot.attemptsMade),
    maxAttempts: snapshot.maxAttempts,
  };
  // A completed job may still carry the error of an earlier attempt; it is history, not status.
  if (snapshot.failedReason && mapping.runtimeStatus !== 'Completed') {
    payload.lastError = snapshot.failedReason;
  }
  if (mapping.inProgress && snapshot.dueAt !== undefined && snapshot.attemptsMade > 0) {
    payload.nextRetryTime = isoSeconds(snapshot.dueAt);
  }
  return payload;
}

function outputOf(snapshot: JobSnapshot, mapping: StatusMapping): ReportOutput | null {
  switch (mapping.runtimeStatus) {
    case 'Completed':
      // What the worker returned (ReportJobOutput), read back from Redis.
      return (snapshot.returnValue ?? null) as ReportJobOutput | null;
    case 'Terminated':
      return terminatedOutput(snapshot.id, snapshot.terminated?.reason);
    case 'Failed':
      return {
        status: 'failed',
        instanceId: snapshot.id,
        error: { message: snapshot.failedReason ?? 'The job failed.' },
      };
    default:
      return null;
  }
}

function terminatedOutput(instanceId: string, reason: string | undefined): TerminatedOutput {
  return { status: 'terminated', instanceId, reason: reason ?? '' };
}
