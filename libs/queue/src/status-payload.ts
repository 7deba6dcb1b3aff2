import type {
  CallbackDeliveryState,
  JobOutput,
  ReportJobOutput,
  TerminatedJobOutput,
  ReportJobData,
  ReportJobInput,
  ReportProgress,
  RuntimeStatus,
  StatusMapping,
} from '@report-jobs/contract';
import type { JobSnapshot } from './job-snapshot.reader';

/**
 * The status payload (Durable's StatusResponsePayload names, and ours beside them): what the
 * status URL answers, and what a webhook carries as its data once the job has ended. Built
 * here, from a job snapshot, for both (the API's OpenAPI classes describe the same shape).
 */
export interface JobStatusPayload {
  name: 'report';
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: ReportJobInput;
  customStatus: { progress: number; message: string } | null;
  output: JobOutput | null;
  createdTime: string;
  lastUpdatedTime: string;
  attempt: number;
  maxAttempts: number;
  lastError?: string;
  nextRetryTime?: string;
  callback?: CallbackStatus;
}

/** Where the callback of a job that has one stands (the status payload's `callback`). */
export interface CallbackStatus {
  url: string;
  state: CallbackDeliveryState;
  attempts: number;
  lastError?: string;
  deliveredAt?: string;
  nextAttemptTime?: string;
}

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
export function toStatusPayload(snapshot: JobSnapshot, mapping: StatusMapping): JobStatusPayload {
  const data = (snapshot.data ?? {}) as Partial<ReportJobData>;
  const progress = currentProgress(snapshot);
  const customStatus =
    typeof progress?.progress === 'number' ? { progress: progress.progress, message: progress.message ?? '' } : null;
  const updatedAt = Math.max(snapshot.timestamp, snapshot.processedOn ?? 0, snapshot.finishedOn ?? 0, progress?.updatedAt ?? 0);

  const payload: JobStatusPayload = {
    name: 'report',
    instanceId: snapshot.id,
    runtimeStatus: mapping.runtimeStatus,
    input: data.input as ReportJobInput,
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
  if (data.callbackUrl) payload.callback = callbackStatus(data.callbackUrl, snapshot);
  return payload;
}

/** The payload a webhook carries: the final status, without the state of that very delivery. */
export function webhookData(payload: JobStatusPayload): Omit<JobStatusPayload, 'callback'> {
  const data = { ...payload };
  delete data.callback;
  return data;
}

/** Before its delivery is queued (the job has not ended), a callback is pending with no attempt made. */
function callbackStatus(url: string, snapshot: JobSnapshot): CallbackStatus {
  const record = snapshot.webhook ?? { state: 'pending', attempts: 0 };
  const status: CallbackStatus = { url, state: record.state, attempts: record.attempts };
  if (record.lastError) status.lastError = record.lastError;
  if (record.deliveredAt !== undefined) status.deliveredAt = isoSeconds(record.deliveredAt);
  if (record.state === 'pending' && record.nextAttemptAt !== undefined) status.nextAttemptTime = isoSeconds(record.nextAttemptAt);
  return status;
}

function outputOf(snapshot: JobSnapshot, mapping: StatusMapping): JobOutput | null {
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

function terminatedOutput(instanceId: string, reason: string | undefined): TerminatedJobOutput {
  return { status: 'terminated', instanceId, reason: reason ?? '' };
}
