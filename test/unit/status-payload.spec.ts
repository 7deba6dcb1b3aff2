import { mapJobState } from '@report-jobs/contract';
import { toStatusPayload, type JobSnapshot } from '@report-jobs/queue';

const T0 = Date.parse('2026-11-26T10:00:00.250Z');
const input = { customer_id: 'cust-123', operation: 'rebuild-report', delay_seconds: 5 };
const base: JobSnapshot = {
  id: 'job-1',
  state: 'waiting',
  data: { input, correlationId: 'r-1' },
  timestamp: T0,
  attemptsMade: 0,
  attemptsStarted: 0,
  maxAttempts: 3,
  progress: 0,
  returnValue: undefined,
};
const payloadOf = (snapshot: JobSnapshot) =>
  toStatusPayload(snapshot, mapJobState(snapshot.state, Math.max(snapshot.attemptsStarted, snapshot.attemptsMade))!);

describe('toStatusPayload', () => {
  it('describes a pending job with Durable names and whole-second times', () => {
    expect(payloadOf(base)).toEqual({
      name: 'report',
      instanceId: 'job-1',
      runtimeStatus: 'Pending',
      input,
      customStatus: null,
      output: null,
      createdTime: '2026-11-26T10:00:00Z',
      lastUpdatedTime: '2026-11-26T10:00:00Z',
      attempt: 0,
      maxAttempts: 3,
    });
  });

  it('shows progress as customStatus and moves lastUpdatedTime with it', () => {
    const payload = payloadOf({
      ...base,
      state: 'active',
      attemptsStarted: 1,
      processedOn: T0 + 1000,
      progress: { progress: 40, message: 'half-way-ish', updatedAt: T0 + 3000 },
    });
    expect(payload).toMatchObject({
      runtimeStatus: 'Running',
      attempt: 1,
      customStatus: { progress: 40, message: 'half-way-ish' },
      lastUpdatedTime: '2026-11-26T10:00:03Z',
    });
  });

  it('ignores progress an earlier attempt reported', () => {
    const payload = payloadOf({
      ...base,
      state: 'active',
      attemptsStarted: 2,
      attemptsMade: 1,
      processedOn: T0 + 5000,
      progress: { progress: 50, message: 'first attempt', updatedAt: T0 + 2000 },
    });
    expect(payload.customStatus).toBeNull();
  });

  it('tells the last error and the next retry time between attempts', () => {
    const payload = payloadOf({ ...base, state: 'delayed', attemptsStarted: 1, attemptsMade: 1, failedReason: 'boom', dueAt: T0 + 2000 });
    expect(payload).toMatchObject({ runtimeStatus: 'Running', lastError: 'boom', nextRetryTime: '2026-11-26T10:00:02Z' });
  });

  it('gives the completed output and hides an earlier attempt’s error', () => {
    const output = { status: 'completed', instanceId: 'job-1', result: { customerId: 'cust-123', operation: 'rebuild-report' } };
    const payload = payloadOf({ ...base, state: 'completed', attemptsStarted: 2, attemptsMade: 2, failedReason: 'old', returnValue: output, finishedOn: T0 + 9000 });
    expect(payload.output).toEqual(output);
    expect(payload).not.toHaveProperty('lastError');
    expect(payload.lastUpdatedTime).toBe('2026-11-26T10:00:09Z');
  });

  it('describes the error in the output of a failed job', () => {
    const payload = payloadOf({ ...base, state: 'failed', attemptsStarted: 3, attemptsMade: 3, failedReason: 'no luck', finishedOn: T0 + 1 });
    expect(payload.output).toEqual({ status: 'failed', instanceId: 'job-1', error: { message: 'no luck' } });
    expect(payload.runtimeStatus).toBe('Failed');
  });

  it('gives the reason as the output of a job that ended by termination, and no result', () => {
    const snapshot: JobSnapshot = {
      ...base,
      state: 'failed',
      failedReason: 'Terminated: not needed',
      finishedOn: T0 + 4000,
      terminated: { reason: 'not needed', at: T0 + 4000 },
    };
    const payload = toStatusPayload(snapshot, mapJobState('failed', 0, { endedByTermination: true })!);
    expect(payload).toMatchObject({ runtimeStatus: 'Terminated', attempt: 0, lastUpdatedTime: '2026-11-26T10:00:04Z' });
    expect(payload.output).toEqual({ status: 'terminated', instanceId: 'job-1', reason: 'not needed' });
  });
});
