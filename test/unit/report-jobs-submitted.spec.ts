import { validateEnvironment } from '@report-jobs/config';
import type { ReportJobData } from '@report-jobs/contract';
import type { JobLookup } from '@report-jobs/queue';
import { CallbackPolicy } from '../../apps/api/src/reports/callback-policy';
import { ApiMetrics } from '../../apps/api/src/metrics/api-metrics';
import type { JobStore } from '../../apps/api/src/reports/job-store';
import { ReportJobsService } from '../../apps/api/src/reports/report-jobs.service';

/**
 * A job store with BullMQ's add semantics: a job id that exists is left as it is. Every
 * call answers a tick later, so that concurrent submits interleave as they do on Redis.
 */
class FakeStore {
  readonly jobs = new Map<string, ReportJobData>();
  private readonly tick = () => new Promise((resolve) => setImmediate(resolve));

  async idempotencySecret(): Promise<Buffer> {
    return Buffer.alloc(32, 7);
  }

  async add(instanceId: string, data: ReportJobData): Promise<void> {
    await this.tick();
    if (!this.jobs.has(instanceId)) this.jobs.set(instanceId, structuredClone(data));
  }

  /** Listing is not what these tests look at. */
  async index(): Promise<void> {
    await this.tick();
  }

  async lookup(instanceId: string): Promise<JobLookup> {
    await this.tick();
    const data = this.jobs.get(instanceId);
    if (!data) return { found: 'none' };
    const job = { id: instanceId, state: 'waiting', data, timestamp: 0, attemptsMade: 0, attemptsStarted: 0, maxAttempts: 3, progress: 0, returnValue: null };
    return { found: 'job', job } as JobLookup;
  }
}

async function submittedCount(metrics: ApiMetrics): Promise<number> {
  const text = await metrics.registry!.getSingleMetricAsString('report_jobs_submitted_total');
  return Number(/report_jobs_submitted_total\{operation="rebuild-report"\} (\d+)/.exec(text)![1]);
}

describe('counting submitted jobs', () => {
  const caller = { principal: 'tenant', admin: false };
  const body = { customer_id: 'cust-1', delay_seconds: 0 };
  let store: FakeStore;
  let metrics: ApiMetrics;
  let service: ReportJobsService;

  beforeEach(() => {
    store = new FakeStore();
    metrics = new ApiMetrics(true);
    service = new ReportJobsService(store as unknown as JobStore, validateEnvironment({}), metrics, new CallbackPolicy(validateEnvironment({})));
  });

  it('counts every submit without a key', async () => {
    const started = await Promise.all([1, 2, 3].map(() => service.start(body, caller, 'req')));
    expect(started.every((job) => job.created)).toBe(true);
    expect(await submittedCount(metrics)).toBe(3);
  });

  it('counts one job for concurrent repeats of a key, even when they carry the same request id', async () => {
    const started = await Promise.all(Array.from({ length: 8 }, () => service.start(body, caller, 'same-request-id', 'key-1')));
    expect(new Set(started.map((job) => job.instanceId)).size).toBe(1);
    expect(started.filter((job) => job.created)).toHaveLength(1);
    expect(await submittedCount(metrics)).toBe(1);

    // A later repeat finds the job at its first read and adds nothing.
    expect((await service.start(body, caller, 'same-request-id', 'key-1')).created).toBe(false);
    expect(await submittedCount(metrics)).toBe(1);
  });

  it('records nothing with metrics off', async () => {
    const off = new ApiMetrics(false);
    const quiet = new ReportJobsService(store as unknown as JobStore, validateEnvironment({}), off, new CallbackPolicy(validateEnvironment({})));
    expect((await quiet.start(body, caller, 'req')).created).toBe(true);
    expect(off.registry).toBeUndefined();
    expect(off.httpDuration).toBeUndefined();
  });
});
