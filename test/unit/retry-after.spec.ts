import type { JobSnapshot } from '@report-jobs/queue';
import { retryAfterForNewJob, retryAfterSeconds } from '../../apps/api/src/reports/retry-after';

const NOW = 1_800_000_000_000;
const snapshot = (overrides: Partial<JobSnapshot>): JobSnapshot => ({
  id: 'id',
  state: 'waiting',
  data: { input: { customer_id: 'c', operation: 'rebuild-report', delay_seconds: 10 }, correlationId: 'r' },
  timestamp: NOW - 1000,
  attemptsMade: 0,
  attemptsStarted: 0,
  maxAttempts: 3,
  progress: 0,
  returnValue: undefined,
  ...overrides,
});

describe('Retry-After', () => {
  it('is the whole simulated work for a pending job, bounded to 1–30 s', () => {
    expect(retryAfterSeconds(snapshot({}), NOW)).toBe(10);
    expect(retryAfterForNewJob(0)).toBe(1);
    expect(retryAfterForNewJob(5)).toBe(5);
    expect(retryAfterForNewJob(3600)).toBe(30);
  });

  it('adds the queue ahead of a pending job, run `parallelism` at a time', () => {
    expect(retryAfterSeconds(snapshot({ waitingCount: 1 }), NOW, 10)).toBe(10);
    expect(retryAfterSeconds(snapshot({ data: { input: { delay_seconds: 2 } }, waitingCount: 25 }), NOW, 10)).toBe(6);
    expect(retryAfterSeconds(snapshot({ waitingCount: 1000 }), NOW, 10)).toBe(30);
  });

  it('is the remaining work of a running attempt', () => {
    expect(retryAfterSeconds(snapshot({ state: 'active', processedOn: NOW - 4000 }), NOW)).toBe(6);
    expect(retryAfterSeconds(snapshot({ state: 'active', processedOn: NOW - 60_000 }), NOW)).toBe(1);
  });

  it('follows the reported progress rate when there is one', () => {
    // 25 % in 2 s: 6 s to go, whatever delay_seconds says.
    const running = snapshot({ state: 'active', processedOn: NOW - 2000, progress: { progress: 25, message: '', updatedAt: NOW } });
    expect(retryAfterSeconds(running, NOW)).toBe(6);
  });

  it('is the time to the next attempt between retries', () => {
    expect(retryAfterSeconds(snapshot({ state: 'delayed', attemptsMade: 1, dueAt: NOW + 2500 }), NOW)).toBe(3);
    expect(retryAfterSeconds(snapshot({ state: 'delayed', attemptsMade: 1, dueAt: NOW + 600_000 }), NOW)).toBe(30);
  });
});
