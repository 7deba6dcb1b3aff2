import { setTimeout as sleep } from 'node:timers/promises';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { pollUntilDone, postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// Managing jobs through the API: idempotent submits, cancel, purge, retention with 410,
// listing, Prefer: wait and queue-wait limits, against the real apps and Redis.
describe('managing report jobs', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let workers: AppProcess[];

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = { JOB_RETENTION_COMPLETED_SECONDS: '2', JOB_RETENTION_FAILED_SECONDS: '2', MAX_PREFER_WAIT_SECONDS: '5' };
    [api, ...workers] = await Promise.all([
      startApi(redis.url, env),
      startWorker(redis.url, { ...env, WORKER_CONCURRENCY: '1' }),
      startWorker(redis.url, { ...env, WORKER_CONCURRENCY: '1' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api, ...(workers ?? [])].map((app) => app?.stop()));
    await redis?.close();
  });

  const reports = () => `${api.url}/api/jobs/reports`;
  const start = (body: object, headers: Record<string, string> = {}) => postJson(reports(), body, headers);
  const jobCount = async () => (await redis.client().keys('bull:reports:*-*-*-*-*')).filter((key) => /:[0-9a-f-]{36}$/.test(key)).length;

  describe('idempotent submits', () => {
    it('answers a repeated key with the same job and URLs, and creates it once', async () => {
      const before = await jobCount();
      const first = await start({ customer_id: 'idem-1', delay_seconds: 0 }, { 'idempotency-key': 'order-1001' });
      const repeat = await start({ customer_id: 'idem-1', delay_seconds: 0 }, { 'idempotency-key': '"order-1001"' });
      expect(first.status).toBe(202);
      expect(repeat.status).toBe(202);
      expect(repeat.body).toEqual(first.body);
      expect(repeat.headers.get('location')).toBe(first.headers.get('location'));
      expect(await jobCount()).toBe(before + 1);
      // Defaults count as given: the same request spelled out is the same request.
      const spelledOut = await start({ customer_id: 'idem-1', operation: 'rebuild-report', delay_seconds: 0 }, { 'idempotency-key': 'order-1001' });
      expect(spelledOut.body.instanceId).toBe(first.body.instanceId);
    });

    it('creates exactly one job for 50 concurrent repeats', async () => {
      const before = await jobCount();
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => start({ customer_id: 'idem-2', delay_seconds: 1 }, { 'idempotency-key': 'burst-7' })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(202));
      expect(new Set(answers.map((answer) => answer.body.instanceId)).size).toBe(1);
      expect(await jobCount()).toBe(before + 1);
    });

    it('keeps answering a terminated job for its key, instead of starting it again', async () => {
      // Long enough to still be queued behind the other tests' jobs when it is cancelled.
      const body = { customer_id: 'idem-cancel', delay_seconds: 30 };
      const first = await start(body, { 'idempotency-key': 'cancel-me' });
      const cancelled = await request(first.body.statusQueryGetUri as string, { method: 'DELETE' });
      expect(cancelled.status).toBe(202);
      await waitFor('termination', async () => (await request(first.body.statusQueryGetUri as string)).body.runtimeStatus === 'Terminated');
      const repeat = await start(body, { 'idempotency-key': 'cancel-me' });
      expect(repeat.status).toBe(202);
      expect(repeat.body.instanceId).toBe(first.body.instanceId);
      const after = await request(first.body.statusQueryGetUri as string);
      expect(after.status).toBe(200);
      expect(after.body.runtimeStatus).toBe('Terminated');
      // And the key still refuses another body.
      expect((await start({ ...body, delay_seconds: 1 }, { 'idempotency-key': 'cancel-me' })).status).toBe(422);
    });

    it('refuses the same key with a different body (422) and keeps keys apart', async () => {
      const first = await start({ customer_id: 'idem-3', delay_seconds: 0 }, { 'idempotency-key': 'k-3' });
      const other = await start({ customer_id: 'idem-3', delay_seconds: 1 }, { 'idempotency-key': 'k-3' });
      expect(other.status).toBe(422);
      expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const anotherKey = await start({ customer_id: 'idem-3', delay_seconds: 0 }, { 'idempotency-key': 'k-4' });
      expect(anotherKey.body.instanceId).not.toBe(first.body.instanceId);
      const noKey = await start({ customer_id: 'idem-3', delay_seconds: 0 });
      expect(noKey.body.instanceId).not.toBe(first.body.instanceId);
    });

    it.each([['a'.repeat(256)], ['has space'], ['"unterminated'], ['tab\there'], ['']])('refuses the malformed key %j with 400', async (key) => {
      const answer = await start({ customer_id: 'idem-4' }, { 'idempotency-key': key });
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
    });
  });

  describe('cancel', () => {
    it('terminates a pending job at once and a running one on the worker that runs it', async () => {
      // Both workers run one job at a time: two long jobs occupy them, the third waits.
      const running = await Promise.all([start({ customer_id: 'long-a', delay_seconds: 30 }), start({ customer_id: 'long-b', delay_seconds: 30 })]);
      const pending = await start({ customer_id: 'pending-c', delay_seconds: 30 });
      for (const job of running) {
        await waitFor('a long job to run', async () => (await request(job.body.statusQueryGetUri as string)).body.runtimeStatus === 'Running');
      }
      expect((await request(pending.body.statusQueryGetUri as string)).body.runtimeStatus).toBe('Pending');

      const cancelled = await request(pending.body.statusQueryGetUri as string, { method: 'DELETE' });
      expect(cancelled.status).toBe(202);
      expect(cancelled.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(cancelled.body.runtimeStatus).toBe('Terminated');
      const afterCancel = await request(pending.body.statusQueryGetUri as string);
      expect(afterCancel.status).toBe(200);
      expect(afterCancel.body).toMatchObject({
        runtimeStatus: 'Terminated',
        input: { customer_id: 'pending-c', delay_seconds: 30 },
        output: { status: 'terminated', instanceId: pending.body.instanceId, reason: 'Terminated by the client' },
      });

      const target = running[0];
      await Promise.all(workers.map((worker) => worker.settledLogLines()));
      const holder = workers.find((worker) =>
        worker.logLines().some((line) => line.msg === 'Attempt started' && line.instanceId === target.body.instanceId),
      )!;
      expect(holder).toBeDefined();
      const terminating = await request(`${target.body.terminatePostUri}`.replace('{text}', 'no%20longer%20needed'), { method: 'POST' });
      expect(terminating.status).toBe(202);
      const done = (await pollUntilDone(target.body.statusQueryGetUri as string)).at(-1)!;
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({
        runtimeStatus: 'Terminated',
        attempt: 1,
        output: { status: 'terminated', reason: 'no longer needed' },
      });
      // The handler saw the abort on the worker that held the job, and nothing retried it.
      await waitFor('the holder to log the aborted attempt', async () =>
        holder.logLines().some((line) => line.instanceId === target.body.instanceId && line.msg === 'Attempt failed: Terminated: no longer needed'),
      );
      await sleep(1500);
      expect((await request(target.body.statusQueryGetUri as string)).body).toMatchObject({ runtimeStatus: 'Terminated', attempt: 1 });

      await request(running[1].body.statusQueryGetUri as string, { method: 'DELETE' });
    });

    it('answers 410 for a finished job and 404 for an unknown one', async () => {
      const job = await start({ customer_id: 'done-1', delay_seconds: 0 });
      await pollUntilDone(job.body.statusQueryGetUri as string);
      const late = await request(job.body.statusQueryGetUri as string, { method: 'DELETE' });
      expect(late.status).toBe(410);
      const unknown = await request(`${reports()}/6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00/terminate`, { method: 'POST' });
      expect(unknown.status).toBe(404);
    });
  });

  describe('purge and retention', () => {
    it('purges a finished job (then 410), refuses a running one (409), and 404s an unknown one', async () => {
      const job = await start({ customer_id: 'purge-1', delay_seconds: 0 });
      await pollUntilDone(job.body.statusQueryGetUri as string);
      const purged = await request(job.body.purgeHistoryDeleteUri as string, { method: 'DELETE' });
      expect(purged.status).toBe(200);
      expect(purged.body).toEqual({ instancesDeleted: 1 });
      const after = await request(job.body.statusQueryGetUri as string);
      expect(after.status).toBe(410);
      expect(after.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(after.body.detail).toMatch(/was purged at \d{4}-\d\d-\d\dT/);
      expect(after.body.goneAt).toEqual(expect.any(String));
      expect((await request(job.body.purgeHistoryDeleteUri as string, { method: 'DELETE' })).status).toBe(410);

      const busy = await start({ customer_id: 'purge-2', delay_seconds: 5 });
      const conflict = await request(busy.body.purgeHistoryDeleteUri as string, { method: 'DELETE' });
      expect(conflict.status).toBe(409);
      await request(busy.body.statusQueryGetUri as string, { method: 'DELETE' });

      const unknown = await request(`${reports()}/6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00/history`, { method: 'DELETE' });
      expect(unknown.status).toBe(404);
    });

    it('removes finished jobs after their retention and answers 410, not 404', async () => {
      const job = await start({ customer_id: 'expire-1', delay_seconds: 0 });
      const done = (await pollUntilDone(job.body.statusQueryGetUri as string)).at(-1)!;
      expect(done.status).toBe(200);
      const expired = await waitFor(
        'the job to expire',
        async () => {
          const answer = await request(job.body.statusQueryGetUri as string);
          return answer.status === 410 ? answer : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 250 },
      );
      expect(expired.body.detail).toMatch(/expired under the retention policy/);
      // Removed by the service itself: the job's hash is gone from Redis.
      expect(await redis.client().exists(`bull:reports:${job.body.instanceId}`)).toBe(0);
    });
  });

  describe('listing', () => {
    it('pages through every job exactly once while new jobs keep arriving', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      const initial = await Promise.all(Array.from({ length: 25 }, (_, i) => start({ customer_id: `list-${i}`, delay_seconds: 20 })));
      const late: Array<{ body: Record<string, unknown> }> = [];
      const seen: string[] = [];
      let token: string | null | undefined;
      let pages = 0;
      do {
        const query = new URLSearchParams({ top: '7', createdTimeFrom: since, ...(token ? { continuationToken: token } : {}) });
        const page = await request<{ items: Array<{ instanceId: string; runtimeStatus: string }>; continuationToken: string | null }>(
          `${reports()}?${query}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(7);
        expect(page.headers.get('x-ms-continuation-token')).toBe(page.body.continuationToken);
        seen.push(...page.body.items.map((item) => item.instanceId));
        token = page.body.continuationToken;
        // Jobs keep arriving between pages.
        if (pages++ < 3) late.push(await start({ customer_id: `list-late-${pages}`, delay_seconds: 20 }));
      } while (token && pages < 50);
      expect(new Set(seen).size).toBe(seen.length);
      for (const job of initial) expect(seen).toContain(job.body.instanceId);
      expect(seen.length).toBeGreaterThanOrEqual(28);
      // Free the workers for the next tests.
      await Promise.all([...initial, ...late].map((job) => request(job.body.statusQueryGetUri as string, { method: 'DELETE' })));
    });

    it('takes the continuation token from the x-ms-continuation-token header too, and accepts showInput', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      await Promise.all([0, 1, 2].map((i) => start({ customer_id: `hdr-${i}`, delay_seconds: 0 })));
      const first = await request<{ items: Array<{ instanceId: string }>; continuationToken: string }>(
        `${reports()}?top=2&showInput=true&createdTimeFrom=${encodeURIComponent(since)}`,
      );
      expect(first.body.items).toHaveLength(2);
      const second = await request<{ items: Array<{ instanceId: string }> }>(
        `${reports()}?top=2&createdTimeFrom=${encodeURIComponent(since)}`,
        { headers: { 'x-ms-continuation-token': first.body.continuationToken } },
      );
      expect(second.body.items.length).toBeGreaterThan(0);
      for (const item of second.body.items) expect(first.body.items.map((i) => i.instanceId)).not.toContain(item.instanceId);
    });

    it('filters by runtimeStatus and creation time', async () => {
      const t0 = new Date().toISOString();
      // Jobs of this test are created strictly after t0 (the filters are inclusive, in ms).
      await sleep(5);
      const done = await start({ customer_id: 'filter-done', delay_seconds: 0 });
      await pollUntilDone(done.body.statusQueryGetUri as string);
      const cancelled = await start({ customer_id: 'filter-cancelled', delay_seconds: 20 });
      await request(cancelled.body.statusQueryGetUri as string, { method: 'DELETE' });
      await waitFor('termination', async () => (await request(cancelled.body.statusQueryGetUri as string)).status === 200);

      const list = async (params: Record<string, string>) =>
        (await request<{ items: Array<{ instanceId: string; runtimeStatus: string }> }>(`${reports()}?${new URLSearchParams(params)}`)).body.items;
      const completed = await list({ runtimeStatus: 'Completed', createdTimeFrom: t0 });
      expect(completed.map((item) => item.instanceId)).toEqual([done.body.instanceId]);
      const both = await list({ runtimeStatus: 'Completed,Terminated', createdTimeFrom: t0 });
      expect(both.map((item) => item.instanceId).sort()).toEqual([done.body.instanceId, cancelled.body.instanceId].sort());
      const before = await list({ createdTimeTo: t0, createdTimeFrom: new Date(Date.parse(t0) - 60_000).toISOString() });
      expect(before.map((item) => item.instanceId)).not.toContain(done.body.instanceId);
    });

    it.each([
      ['runtimeStatus=Done'],
      ['top=0'],
      ['top=abc'],
      ['createdTimeFrom=yesterday'],
      // ISO 8601 forms a strict validator accepts but that name no instant: 400, not 503.
      ['createdTimeFrom=2026-W05'],
      ['createdTimeTo=2026-123'],
      ['showInput=maybe'],
      ['continuationToken=not-a-token'],
      ['unknown=1'],
    ])('refuses %s with 400', async (query) => {
      const answer = await request(`${reports()}?${query}`);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });
  });

  describe('Prefer: wait', () => {
    it('answers 200 with the final status when the job ends within the wait', async () => {
      const answer = await start({ customer_id: 'wait-1', delay_seconds: 1 }, { prefer: 'wait=2' });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('preference-applied')).toBe('wait=2');
      expect(answer.body).toMatchObject({ runtimeStatus: 'Completed', output: { result: { customerId: 'wait-1' } } });
      expect(answer.headers.get('location')).toMatch(/\/api\/jobs\/reports\/[0-9a-f-]{36}$/);
    });

    it('answers the usual 202 when it does not, and bounds the wait', async () => {
      const job = await start({ customer_id: 'wait-2', delay_seconds: 20 });
      const started = Date.now();
      const answer = await request(job.body.statusQueryGetUri as string, { headers: { prefer: 'wait=1' } });
      expect(answer.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(answer.headers.get('preference-applied')).toBe('wait=1');
      // A wait above MAX_PREFER_WAIT_SECONDS (5 here) is cut down to it.
      const capped = await request(job.body.statusQueryGetUri as string, { headers: { prefer: 'wait=600' }, signal: AbortSignal.timeout(8000) });
      expect(capped.headers.get('preference-applied')).toBe('wait=5');
      await request(job.body.statusQueryGetUri as string, { method: 'DELETE' });
    });

    it('wakes a waiting status request as soon as the job ends', async () => {
      const job = await start({ customer_id: 'wait-3', delay_seconds: 1 });
      const started = Date.now();
      const answer = await request(job.body.statusQueryGetUri as string, { headers: { prefer: 'wait=5' }, signal: AbortSignal.timeout(8000) });
      expect(answer.status).toBe(200);
      expect(answer.body.runtimeStatus).toBe('Completed');
      // Woken by the job's end (about 1 s of work), not by the end of the 5 s wait.
      expect(Date.now() - started).toBeLessThan(4000);
    });
  });
});

describe('queue-wait limit', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
    api = await startApi(redis.url);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  it('fails a job that waited longer than JOB_QUEUE_WAIT_LIMIT_SECONDS, saying which limit', async () => {
    const job = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'stale', delay_seconds: 0 });
    await sleep(2100);
    worker = await startWorker(redis.url, { JOB_QUEUE_WAIT_LIMIT_SECONDS: '1' });
    const done = (await pollUntilDone(job.body.statusQueryGetUri as string)).at(-1)!;
    expect(done.body).toMatchObject({
      runtimeStatus: 'Failed',
      attempt: 1,
      output: { error: { message: expect.stringMatching(/^Waited \d+ s in the queue, longer than 1 s \(JOB_QUEUE_WAIT_LIMIT_SECONDS\)$/) } },
    });
  });
});
