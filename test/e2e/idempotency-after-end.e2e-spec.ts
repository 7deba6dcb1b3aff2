import { startApi, startWorker, type AppProcess } from '../support/apps';
import { pollUntilDone, postJson, request, type JsonResponse } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// An Idempotency-Key keeps standing for its job after the job is purged or has expired,
// for as long as the record it leaves: the same body answers the original job at once,
// another body is 422, and Prefer: wait never holds a repeat whose job is gone.
describe('idempotency after a job has ended or is gone', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    const retention = { JOB_RETENTION_COMPLETED_SECONDS: '1', JOB_RETENTION_FAILED_SECONDS: '1' };
    [api, worker] = await Promise.all([
      startApi(redis.url, { ...retention, MAX_PREFER_WAIT_SECONDS: '30' }),
      startWorker(redis.url, { ...retention, WORKER_CONCURRENCY: '1' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  const start = (body: object, key: string, headers: Record<string, string> = {}) =>
    postJson(`${api.url}/api/jobs/reports`, body, { 'idempotency-key': key, ...headers });
  const goneAnswer = (statusUrl: string) =>
    waitFor(
      'the job to be gone',
      async () => {
        const answer = await request(statusUrl);
        return answer.status === 410 ? answer : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
  const expectSameJob = (repeat: JsonResponse, first: JsonResponse) => {
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers.get('location')).toBe(first.headers.get('location'));
  };

  it('refuses another body after a purge (422), and answers the same body with the purged job', async () => {
    const body = { customer_id: 'after-purge', delay_seconds: 0 };
    const first = await start(body, 'purged-key');
    const statusUrl = first.body.statusQueryGetUri as string;
    expect((await pollUntilDone(statusUrl)).at(-1)!.body.runtimeStatus).toBe('Completed');
    expect((await request(first.body.purgeHistoryDeleteUri as string, { method: 'DELETE' })).status).toBe(200);

    const other = await start({ ...body, delay_seconds: 1 }, 'purged-key');
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expectSameJob(await start(body, 'purged-key'), first);
    expect((await request(statusUrl)).status).toBe(410);
  });

  it('answers a Prefer: wait repeat whose job was purged at once, with 202 and the URLs', async () => {
    const body = { customer_id: 'wait-after-purge', delay_seconds: 0 };
    const first = await start(body, 'wait-purged-key');
    await pollUntilDone(first.body.statusQueryGetUri as string);
    expect((await request(first.body.purgeHistoryDeleteUri as string, { method: 'DELETE' })).status).toBe(200);

    // Far less than the 30 s asked for: a repeat that waited would be cut off and fail here.
    const repeat = await request(`${api.url}/api/jobs/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'wait-purged-key', prefer: 'wait=30' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    expectSameJob(repeat, first);
  });

  it('answers a Prefer: wait repeat of a finished job at once with its final status', async () => {
    const body = { customer_id: 'wait-after-end', delay_seconds: 0 };
    const first = await start(body, 'wait-ended-key');
    await pollUntilDone(first.body.statusQueryGetUri as string);
    const repeat = await start(body, 'wait-ended-key', { prefer: 'wait=30' });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ instanceId: first.body.instanceId, runtimeStatus: 'Completed' });
  });

  it('refuses another body after the job expired (422), also for a job terminated before it ran', async () => {
    // The only worker is busy with this one, so the next job stays queued until cancelled.
    const blocker = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'blocker', delay_seconds: 30 });
    await waitFor('the blocker to run', async () => (await request(blocker.body.statusQueryGetUri as string)).body.runtimeStatus === 'Running');
    const queuedBody = { customer_id: 'expire-terminated', delay_seconds: 0 };
    const queued = await start(queuedBody, 'terminated-key');
    const cancelled = await request(queued.body.statusQueryGetUri as string, { method: 'DELETE' });
    expect(cancelled.body.runtimeStatus).toBe('Terminated');
    await request(blocker.body.statusQueryGetUri as string, { method: 'DELETE' });

    const doneBody = { customer_id: 'expire-completed', delay_seconds: 0 };
    const done = await start(doneBody, 'completed-key');
    await pollUntilDone(done.body.statusQueryGetUri as string);

    for (const [first, body, key] of [
      [queued, queuedBody, 'terminated-key'],
      [done, doneBody, 'completed-key'],
    ] as const) {
      const expired = await goneAnswer(first.body.statusQueryGetUri as string);
      expect(expired.body.detail).toMatch(/expired under the retention policy/);
      expect((await start({ ...body, delay_seconds: 2 }, key)).status).toBe(422);
      expectSameJob(await start(body, key), first);
      // The repeat did not bring the job back.
      expect((await request(first.body.statusQueryGetUri as string)).status).toBe(410);
    }
  });
});
