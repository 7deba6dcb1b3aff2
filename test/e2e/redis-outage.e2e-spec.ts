import { startApi, startWorker, type AppProcess } from '../support/apps';
import { fetchApi, pollUntilDone, postJson, request } from '../support/http';
import { describeWithOwnRedis, startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// With Redis gone the API answers 503 problem+json at once (never hangs), and both apps
// carry on by themselves when Redis is back. It stops Redis, so it needs its own.
describeWithOwnRedis('Redis outage', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    [api, worker] = await Promise.all([startApi(redis.url), startWorker(redis.url)]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  it('answers 503 while Redis is down and recovers without a restart', async () => {
    await redis.stop();
    // The 3 s client deadline would turn a hanging request into a failure here.
    const post = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'c', delay_seconds: 0 }, {});
    expect(post.status).toBe(503);
    expect(post.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(post.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(JSON.stringify(post.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Connection is closed|stream/i);
    // Nothing reached Redis, so the answer can say so, and names no job.
    expect(post.body.detail).toContain('the job was not queued');
    expect(post.body).not.toHaveProperty('instanceId');

    const status = await request(`${api.url}/api/jobs/reports/6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00`, {
      signal: AbortSignal.timeout(3000),
    });
    expect(status.status).toBe(503);
    expect((await request(`${api.url}/health/ready`, { signal: AbortSignal.timeout(3000) })).status).toBe(503);
    expect((await request(`${api.url}/health/live`)).status).toBe(200);
    await waitFor('the worker to report not ready', async () => (await fetch(`${worker.url}/health/ready`)).status === 503);

    await redis.start();
    await waitFor('the API to be ready again', async () => (await fetchApi(`${api.url}/health/ready`)).status === 200);
    await waitFor('the worker to be ready again', async () => (await fetch(`${worker.url}/health/ready`)).status === 200);
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'after-outage', delay_seconds: 0 });
    expect(accepted.status).toBe(202);
    const done = (await pollUntilDone(accepted.body.statusQueryGetUri as string)).at(-1)!;
    expect(done.body.runtimeStatus).toBe('Completed');
  });
});
