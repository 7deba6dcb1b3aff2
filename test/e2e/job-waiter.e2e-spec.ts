import { Global, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { Environment, validateEnvironment } from '@report-jobs/config';
import { REPORTS_QUEUE } from '@report-jobs/contract';
import { ApiMetricsModule } from '../../apps/api/src/metrics/metrics.module';
import { JobWaiter } from '../../apps/api/src/reports/job-waiter';
import { ReportsModule } from '../../apps/api/src/reports/reports.module';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// The API's waiting machinery (Prefer: wait) as the API module wires it, in this process,
// against a real Redis: the end of a job is announced by the 'completed' entry BullMQ adds
// to the queue's event stream, written here directly so that it lands exactly when the
// test needs it to.
describe('JobWaiter', () => {
  let redis: TestRedis;
  let app: INestApplicationContext;

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = validateEnvironment({ REDIS_URL: redis.url, METRICS_PORT: '0', LOG_LEVEL: 'silent' });

    @Global()
    @Module({ providers: [{ provide: Environment, useValue: env }], exports: [Environment] })
    class TestConfigModule {}

    @Module({ imports: [TestConfigModule, ApiMetricsModule, ReportsModule] })
    class WaitingModule {}

    app = await NestFactory.createApplicationContext(WaitingModule, { logger: false });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.close();
  });

  /** What BullMQ adds to the event stream when a job completes. */
  const announceCompletion = (instanceId: string) =>
    redis.client().xadd(`bull:${REPORTS_QUEUE}:events`, '*', 'event', 'completed', 'jobId', instanceId, 'returnvalue', '{}', 'prev', 'active');

  it('is woken by an end that comes right after its check, on the first wait after the start', async () => {
    const waiter = app.get(JobWaiter);
    const instanceId = randomUUID();
    let woken = false;
    // The job has not ended when the waiter looks, and ends at once afterwards. The wait
    // is far longer than the test: only the completion can end it in time.
    const hasEnded = async () => {
      await announceCompletion(instanceId);
      return false;
    };
    void waiter.waitForEnd(instanceId, 3_600_000, hasEnded).then(() => (woken = true));
    await waitFor('the waiter to be woken by the completion', async () => woken);
  });

  it('is woken by an end that comes while it waits', async () => {
    const waiter = app.get(JobWaiter);
    const instanceId = randomUUID();
    let checked = false;
    let woken = false;
    void waiter
      .waitForEnd(instanceId, 3_600_000, async () => {
        checked = true;
        return false;
      })
      .then(() => (woken = true));
    await waitFor('the waiter to check the job', async () => checked);
    await announceCompletion(instanceId);
    await waitFor('the waiter to be woken by the completion', async () => woken);
  });
});
