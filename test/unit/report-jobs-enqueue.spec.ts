import { randomBytes } from 'node:crypto';
import type { Environment } from '@report-jobs/config';
import { ServiceUnavailableError } from '../../apps/api/src/http/problem-details';
import { instanceIdForKey } from '../../apps/api/src/reports/idempotency';
import type { JobStore } from '../../apps/api/src/reports/job-store';
import { CallbackPolicy } from '../../apps/api/src/reports/callback-policy';
import { ApiMetrics } from '../../apps/api/src/metrics/api-metrics';
import { EnqueueUnconfirmedError, JobNotQueuedError, ReportJobsService } from '../../apps/api/src/reports/report-jobs.service';

const caller = { principal: 'tenant-a', admin: false };
const body = { customer_id: 'c', delay_seconds: 0 };

/** A job store whose add fails as given, and which holds no job. */
function storeFailingAdd(error: Error): JobStore {
  const secret = randomBytes(32);
  return {
    add: async () => {
      throw error;
    },
    idempotencySecret: async () => secret,
    lookup: async () => ({ found: 'none' }),
  } as unknown as JobStore;
}

describe('ReportJobsService: a submit whose add fails', () => {
  const env = { WORKER_CONCURRENCY: 1 } as Environment;

  it('says the job was not queued when Redis did nothing', async () => {
    const service = new ReportJobsService(storeFailingAdd(new ServiceUnavailableError('Redis is not connected', false)), env, new ApiMetrics(false), new CallbackPolicy(env));
    await expect(service.start(body, caller, 'req-1')).rejects.toBeInstanceOf(JobNotQueuedError);
  });

  it('names the job when Redis may have queued it without answering', async () => {
    const service = new ReportJobsService(storeFailingAdd(new ServiceUnavailableError('Command timed out', true)), env, new ApiMetrics(false), new CallbackPolicy(env));
    const failure = await service.start(body, caller, 'req-1').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EnqueueUnconfirmedError);
    expect((failure as EnqueueUnconfirmedError).instanceId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('names, with an Idempotency-Key, the job a retry with that key lands on', async () => {
    const store = storeFailingAdd(new ServiceUnavailableError('Command timed out', true));
    const service = new ReportJobsService(store, env, new ApiMetrics(false), new CallbackPolicy(env));
    const failure = (await service.start(body, caller, 'req-1', 'key-1').catch((error: unknown) => error)) as EnqueueUnconfirmedError;
    expect(failure).toBeInstanceOf(EnqueueUnconfirmedError);
    expect(failure.instanceId).toBe(instanceIdForKey(await store.idempotencySecret(), caller.principal, 'key-1'));
  });

  it('lets any other failure through as it is (a fault, answered 500)', async () => {
    const fault = new Error('Could not add a job: CROSSSLOT');
    const service = new ReportJobsService(storeFailingAdd(fault), env, new ApiMetrics(false), new CallbackPolicy(env));
    await expect(service.start(body, caller, 'req-1')).rejects.toBe(fault);
  });
});
