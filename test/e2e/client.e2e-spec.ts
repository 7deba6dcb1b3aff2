import { randomUUID } from 'node:crypto';
import {
  GoneError,
  NotFoundError,
  ProblemError,
  ReportJobsClient,
  UnavailableError,
  type StatusPayload,
} from '@report-jobs/client';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { fetchChecked } from '../support/http';
import { describeWithOwnRedis, startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// libs/client against the real API, worker and Redis. Every answer it gets is checked
// against the OpenAPI document the API serves (fetchChecked).

/** Each principal sees only its own jobs: tests that count jobs get one of their own. */
const KEYS = { client: 'client-key-0001', lister: 'lister-key-0001', retrier: 'retrier-key-01', unkeyed: 'unkeyed-key-01' };

interface SentRequest {
  method: string;
  path: string;
  status: number;
  prefer: string | null;
  idempotencyKey: string | null;
}

describe('the typed client against the real API and worker', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    const keys = Object.entries(KEYS).map(([principal, key]) => `${principal}:${key}`).join(',');
    [api, worker] = await Promise.all([startApi(redis.url, { ALLOW_ANONYMOUS: 'false', API_KEYS: keys }), startWorker(redis.url)]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  /** A client for `principal` that records every request it sends and the answer's status. */
  function clientOf(principal: keyof typeof KEYS = 'client') {
    const sent: SentRequest[] = [];
    const client = new ReportJobsClient({
      baseUrl: api.url,
      apiKey: KEYS[principal],
      fetch: async (request) => {
        const { method, headers } = request;
        const response = await fetchChecked(request);
        sent.push({
          method,
          path: new URL(request.url).pathname,
          status: response.status,
          prefer: headers.get('prefer'),
          idempotencyKey: headers.get('idempotency-key'),
        });
        return response;
      },
    });
    return { client, sent };
  }

  /** The status reads of a job in the API's request log, once it has logged as many as the client sent. */
  const loggedReads = async (instanceId: string, sent: SentRequest[]) => {
    const path = `/api/jobs/reports/${instanceId}`;
    const sentReads = sent.filter((request) => request.method === 'GET' && request.path === path).length;
    const logged = () =>
      api.logLines().filter((line) => {
        const req = line.req as { method?: string; url?: string } | undefined;
        return line.msg === 'request completed' && req?.method === 'GET' && req.url === path;
      });
    return waitFor(`the API to log ${sentReads} reads of ${instanceId}`, async () => logged().length >= sentReads && logged());
  };

  it('starts a job and waits for its typed completion, reading as seldom as Retry-After asks', async () => {
    const { client, sent } = clientOf();
    const customerId = `client-${randomUUID()}`;
    const started = await client.start({ customer_id: customerId, delay_seconds: 3 });
    expect(started.statusQueryGetUri).toBe(`${api.url}/api/jobs/reports/${started.instanceId}`);
    expect(started.retryAfterSeconds).toBe(3);

    const final = await client.waitForCompletion(started.instanceId, { firstReadAfterSeconds: started.retryAfterSeconds });
    if (final.runtimeStatus !== 'Completed') throw new Error(`expected Completed, got ${final.runtimeStatus}`);
    // Typed by runtimeStatus: a Completed status has the seed's output, no guard needed.
    expect(final.output.result).toEqual({ customerId, operation: 'rebuild-report' });

    // A poller at a fixed 150 ms would have read about 20 times. This one waited the 3 s
    // asked, then asked the API to hold its read until the end: one or two reads.
    const reads = await loggedReads(started.instanceId, sent);
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.length).toBeLessThanOrEqual(2);
    expect(sent.filter((request) => request.method === 'GET').map((request) => request.prefer)).toContain('wait=3');
  });

  it("reports the job's progress as it changes, once per change", async () => {
    const { client, sent } = clientOf();
    const started = await client.start({ customer_id: `progress-${randomUUID()}`, delay_seconds: 4 });
    const seen: StatusPayload[] = [];
    const final = await client.waitForCompletion(started.instanceId, { onProgress: (status) => seen.push(status) });
    expect(final.runtimeStatus).toBe('Completed');
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.every((status) => status.runtimeStatus === 'Pending' || status.runtimeStatus === 'Running')).toBe(true);
    const shown = seen.map((status) => JSON.stringify([status.runtimeStatus, status.customStatus, status.attempt]));
    expect(new Set(shown).size).toBe(shown.length);
    // Read at once, then as Retry-After asks: a handful of reads, not one per 150 ms.
    const reads = await loggedReads(started.instanceId, sent);
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads.length).toBeLessThanOrEqual(4);
  });

  it('stops waiting at once when aborted, with the reason; cancel then ends the job Terminated', async () => {
    const { client } = clientOf();
    const started = await client.start({ customer_id: `abort-${randomUUID()}`, delay_seconds: 30 });
    const abort = new AbortController();
    let firstRead: () => void = () => undefined;
    const readOnce = new Promise<void>((resolve) => (firstRead = resolve));
    const waiting = client.waitForCompletion(started.instanceId, { signal: abort.signal, onProgress: () => firstRead() });
    await readOnce; // now it waits the Retry-After of a 30 s job
    const reason = new Error('the user gave up');
    abort.abort(reason);
    await expect(waiting).rejects.toBe(reason);

    const cancelling = await client.cancel(started.instanceId, { reason: 'no longer needed' });
    expect(cancelling.instanceId).toBe(started.instanceId);
    const final = await client.waitForCompletion(started.instanceId);
    if (final.runtimeStatus !== 'Terminated') throw new Error(`expected Terminated, got ${final.runtimeStatus}`);
    expect(final.output.reason).toBe('no longer needed');
  });

  it('throws NotFoundError for an unknown job, and GoneError with goneAt once a job is purged', async () => {
    const { client } = clientOf();
    const unknown = randomUUID();
    await expect(client.status(unknown)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.waitForCompletion(unknown)).rejects.toBeInstanceOf(NotFoundError);

    const started = await client.start({ customer_id: `purge-${randomUUID()}`, delay_seconds: 0 });
    expect((await client.waitForCompletion(started.instanceId)).runtimeStatus).toBe('Completed');
    expect(await client.purge(started.instanceId)).toEqual({ instancesDeleted: 1 });
    const gone = await client.waitForCompletion(started.instanceId).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(GoneError);
    expect((gone as GoneError).goneAt).toBeInstanceOf(Date);
    expect((gone as GoneError).requestId).toEqual(expect.any(String));
    await expect(client.cancel(started.instanceId)).rejects.toBeInstanceOf(GoneError);
  });

  it('carries the problem of any other refusal: purging a running job is a 409', async () => {
    const { client } = clientOf();
    const started = await client.start({ customer_id: `conflict-${randomUUID()}`, delay_seconds: 30 });
    const refused = await client.purge(started.instanceId).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProblemError);
    expect((refused as ProblemError).status).toBe(409);
    expect((refused as ProblemError).problem.detail).toEqual(expect.any(String));
    await client.cancel(started.instanceId);
  });

  it('lists every job across several pages, in creation order', async () => {
    const { client, sent } = clientOf('lister');
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      ids.push((await client.start({ customer_id: `list-${index}`, delay_seconds: 0 })).instanceId);
    }
    const listed: string[] = [];
    for await (const job of client.list({ pageSize: 2 })) listed.push(job.instanceId);
    expect(listed).toEqual(ids);
    expect(sent.filter((request) => request.method === 'GET' && request.path === '/api/jobs/reports').length).toBe(3);

    // Filters reach the API as the document spells them.
    for (const id of ids) await client.waitForCompletion(id);
    const completed: string[] = [];
    for await (const job of client.list({ runtimeStatus: ['Completed', 'Failed'], createdTimeFrom: new Date(Date.now() - 3_600_000) })) {
      completed.push(job.instanceId);
    }
    expect(completed).toEqual(ids);
    for await (const job of client.list({ runtimeStatus: ['Running'] })) throw new Error(`${job.instanceId} is listed as Running`);
  });

  describeWithOwnRedis('when Redis stalls under a submit', () => {
    /** Redis answers no write (reads still) for a while: the API's enqueue times out with a 503. */
    const stallWrites = (ms: number) => redis.client().call('CLIENT', 'PAUSE', String(ms), 'WRITE');

    it('retries the POST with the same Idempotency-Key after the 503, and exactly one job results', async () => {
      const { client, sent } = clientOf('retrier');
      await stallWrites(2500);
      const started = await client.start({ customer_id: 'retried', delay_seconds: 0 });
      const posts = sent.filter((request) => request.method === 'POST');
      expect(posts.map((post) => post.status)).toEqual([503, 202]);
      expect(posts[0].idempotencyKey).toBe(started.idempotencyKey);
      expect(posts[1].idempotencyKey).toBe(started.idempotencyKey);

      const jobs: string[] = [];
      for await (const job of client.list()) jobs.push(job.instanceId);
      expect(jobs).toEqual([started.instanceId]);
    });

    it('never retries without a key, and names the job a 503 may have queued', async () => {
      const { client, sent } = clientOf('unkeyed');
      await stallWrites(2500);
      const error = await client.start({ customer_id: 'unkeyed', delay_seconds: 0 }, { retries: 0 }).catch((failure: unknown) => failure);
      expect(sent.filter((request) => request.method === 'POST').map((post) => [post.status, post.idempotencyKey])).toEqual([[503, null]]);
      expect(error).toBeInstanceOf(UnavailableError);
      const unavailable = error as UnavailableError;
      expect(unavailable.retryAfterSeconds).toBeGreaterThan(0);
      // The add reached Redis, which ran it once it woke: the job named is there.
      expect(unavailable.instanceId).toEqual(expect.any(String));
      expect(unavailable.statusQueryGetUri).toBe(`${api.url}/api/jobs/reports/${unavailable.instanceId}`);
      const final = await waitFor('the job the 503 named', () => client.waitForCompletion(unavailable.instanceId!).catch(() => undefined));
      expect(final.runtimeStatus).toBe('Completed');
    });

    it('keeps waiting through a 503 on a status read, after its Retry-After', async () => {
      const { client, sent } = clientOf();
      const started = await client.start({ customer_id: `stall-${randomUUID()}`, delay_seconds: 1 });
      await redis.client().call('CLIENT', 'PAUSE', '2500', 'ALL');
      const final = await client.waitForCompletion(started.instanceId);
      expect(final.runtimeStatus).toBe('Completed');
      expect(sent.filter((request) => request.method === 'GET').map((request) => request.status)).toContain(503);
    });
  });
});
