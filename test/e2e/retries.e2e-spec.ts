import { startApi, startWorker, type AppProcess } from '../support/apps';
import { pollUntilDone, postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';

// Retries, exhausted attempts and time limits, through the real worker. Failures are
// injected with SIMULATED_FAILURES, the worker's switch for deliberate failures.
describe('failures and retries', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    const jobPolicy = { JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '300', JOB_TIMEOUT_SECONDS: '2' };
    [api, worker] = await Promise.all([
      startApi(redis.url, jobPolicy),
      startWorker(redis.url, { ...jobPolicy, SIMULATED_FAILURES: 'cust-flaky=2,cust-broken=*' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  const start = async (body: object) => {
    const accepted = await postJson(`${api.url}/api/jobs/reports`, body);
    expect(accepted.status).toBe(202);
    return accepted.body.statusQueryGetUri as string;
  };

  it('stays 202 Running through failed attempts, with the attempt count, then completes', async () => {
    const statusUrl = await start({ customer_id: 'cust-flaky', delay_seconds: 0 });
    const answers = await pollUntilDone(statusUrl, { intervalMs: 50 });

    const retrying = answers.filter((answer) => answer.body.lastError);
    expect(retrying.length).toBeGreaterThan(0);
    for (const answer of retrying) {
      expect(answer.status).toBe(202);
      expect(answer.body.runtimeStatus).toBe('Running');
      expect(answer.body.maxAttempts).toBe(3);
      expect(answer.body.lastError).toMatch(/^Simulated failure of attempt [12] for cust-flaky$/);
    }
    expect(Math.max(...retrying.map((answer) => answer.body.attempt as number))).toBeGreaterThanOrEqual(2);
    expect(retrying.some((answer) => typeof answer.body.nextRetryTime === 'string')).toBe(true);

    const done = answers.at(-1)!;
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      runtimeStatus: 'Completed',
      attempt: 3,
      output: { status: 'completed', result: { customerId: 'cust-flaky', operation: 'rebuild-report' } },
    });
    // Success is decided from the job's state: the earlier attempts' error is not shown.
    expect(done.body).not.toHaveProperty('lastError');
  });

  it('ends 200 Failed when every attempt fails, and 500 when the client asks for it', async () => {
    const statusUrl = await start({ customer_id: 'cust-broken', delay_seconds: 0 });
    const done = (await pollUntilDone(statusUrl)).at(-1)!;
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      runtimeStatus: 'Failed',
      attempt: 3,
      maxAttempts: 3,
      output: { status: 'failed', error: { message: 'Simulated failure of attempt 3 for cust-broken' } },
    });

    const asError = await request(`${statusUrl}?returnInternalServerErrorOnFailure=true`);
    expect(asError.status).toBe(500);
    expect(asError.body.runtimeStatus).toBe('Failed');
    const asDefault = await request(`${statusUrl}?returnInternalServerErrorOnFailure=false`);
    expect(asDefault.status).toBe(200);
  });

  it('fails at once, without retries, when an attempt runs past its time limit', async () => {
    const statusUrl = await start({ customer_id: 'cust-slow', delay_seconds: 10 });
    const done = (await pollUntilDone(statusUrl)).at(-1)!;
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      runtimeStatus: 'Failed',
      attempt: 1,
      output: { status: 'failed', error: { message: 'Timed out after 2 s (JOB_TIMEOUT_SECONDS)' } },
    });
  });

  it('answers 500 only for failed jobs, whatever the flag says for others', async () => {
    const statusUrl = await start({ customer_id: 'cust-ok', delay_seconds: 0 });
    await pollUntilDone(statusUrl);
    const answer = await request(`${statusUrl}?returnInternalServerErrorOnFailure=true`);
    expect(answer.status).toBe(200);
    expect(answer.body.runtimeStatus).toBe('Completed');
  });

  it('keeps retries inside the worker logs with the job identity', async () => {
    const lines = (await worker.settledLogLines()).filter((line) => line.customerId === 'cust-flaky' && line.msg?.toString().startsWith('Attempt failed'));
    expect(lines).toHaveLength(2);
    expect(lines.map((line) => line.attempt).sort()).toEqual([1, 2]);
  });
});
