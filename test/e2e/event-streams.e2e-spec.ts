import { once } from 'node:events';
import { connect } from 'node:net';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { openEventStream, type StreamItem } from '../support/event-stream';
import { postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

type StatusEvent = Extract<StreamItem, { kind: 'event' }>;
interface Payload {
  instanceId: string;
  runtimeStatus: string;
  customStatus: { progress: number; message: string } | null;
  output: Record<string, unknown> | null;
}

const TENANT_A = { authorization: 'Bearer key-a-0123456789' };
const TENANT_B = { authorization: 'Bearer key-b-0123456789' };
const API_KEYS = 'tenant-a:key-a-0123456789,tenant-b:key-b-0123456789,tenant-c:key-c-0123456789';
const TENANT_C = { authorization: 'Bearer key-c-0123456789' };
const STREAM_CAP = 2;

const payloadOf = (event: StatusEvent) => JSON.parse(event.data) as Payload;
/** Event ids are attempt.phase.progress, compared number by number. */
const idOf = (event: StatusEvent) => event.id!.split('.').map(Number);
const isNewer = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

function expectIdsIncreasing(events: StatusEvent[], after?: string): void {
  let previous = after?.split('.').map(Number);
  for (const event of events) {
    expect(event.id).toMatch(/^\d+\.[0-3]\.\d+$/);
    if (previous) expect(isNewer(idOf(event), previous)).toBeGreaterThan(0);
    previous = idOf(event);
  }
}

describe('event streams (Server-Sent Events)', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    [api, worker] = await Promise.all([
      startApi(redis.url, { API_KEYS, ALLOW_ANONYMOUS: 'false', SSE_MAX_STREAMS_PER_PRINCIPAL: String(STREAM_CAP) }),
      startWorker(redis.url),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  const start = async (delaySeconds: number, headers = TENANT_A) => {
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-sse', delay_seconds: delaySeconds }, headers);
    expect(accepted.status).toBe(202);
    return { instanceId: accepted.body.instanceId as string, statusUrl: accepted.body.statusQueryGetUri as string };
  };
  const eventsUrl = (statusUrl: string) => `${statusUrl}/events`;

  it('sends the current status at once, one event per change, the final status, then closes', async () => {
    const job = await start(4);
    const stream = await openEventStream(eventsUrl(job.statusUrl), TENANT_A);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    expect(stream.headers.get('cache-control')).toBe('no-store');
    // The headers every answer carries are on the stream too.
    expect(stream.headers.get('x-request-id')).toBeTruthy();
    expect(stream.headers.get('x-content-type-options')).toBe('nosniff');

    const events = await stream.eventsUntilEnd();
    expect(events.every((event) => event.event === 'status')).toBe(true);
    expectIdsIncreasing(events);
    const statuses = events.map((event) => payloadOf(event).runtimeStatus);
    expect(statuses.join(' ')).toMatch(/^(Pending )*(Running )+Completed$/);
    // Progress arrives as it is reported, in order (reports that come faster than they are
    // read are sent as their latest).
    const progress = events.map((event) => payloadOf(event).customStatus?.progress).filter((value) => value !== undefined);
    expect(new Set(progress).size).toBeGreaterThanOrEqual(3);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    // The final event is the status URL's final answer, and nothing follows it.
    const final = await request(job.statusUrl, { headers: TENANT_A });
    expect(final.status).toBe(200);
    expect(payloadOf(events.at(-1)!)).toEqual(final.body);
    expect(await stream.next()).toBeUndefined();
  });

  it('resumes after Last-Event-ID with nothing the client already has', async () => {
    const job = await start(4);
    const first = await openEventStream(eventsUrl(job.statusUrl), TENANT_A);
    let seen = await first.nextEvent();
    while (seen && payloadOf(seen).customStatus === null) seen = await first.nextEvent();
    first.close();
    expect(payloadOf(seen!).runtimeStatus).toBe('Running');

    const resumed = await openEventStream(eventsUrl(job.statusUrl), { ...TENANT_A, 'last-event-id': seen!.id! });
    expect(resumed.status).toBe(200);
    const rest = await resumed.eventsUntilEnd();
    expectIdsIncreasing(rest, seen!.id);
    expect(payloadOf(rest.at(-1)!).runtimeStatus).toBe('Completed');
  });

  it('sends the current status at once when it is newer than Last-Event-ID, and otherwise only what comes next', async () => {
    const job = await start(60);
    const first = await openEventStream(eventsUrl(job.statusUrl), TENANT_A);
    let current = await first.nextEvent();
    while (current && payloadOf(current).customStatus === null) current = await first.nextEvent();
    first.close();

    // Behind the job: the current status comes first.
    const behind = await openEventStream(eventsUrl(job.statusUrl), { ...TENANT_A, 'last-event-id': '0.0.0' });
    const caughtUp = await behind.nextEvent();
    behind.close();
    expect(payloadOf(caughtUp!).runtimeStatus).toBe('Running');
    expect(isNewer(idOf(caughtUp!), idOf(current!))).toBeGreaterThanOrEqual(0);

    // Up to date: the first event is the next change, never the status the client has.
    const upToDate = await openEventStream(eventsUrl(job.statusUrl), { ...TENANT_A, 'last-event-id': caughtUp!.id! });
    const next = await upToDate.nextEvent();
    expectIdsIncreasing([next!], caughtUp!.id);
    upToDate.close();

    // An id this API never sent counts as none.
    const unknownId = await openEventStream(eventsUrl(job.statusUrl), { ...TENANT_A, 'last-event-id': 'not-an-id' });
    expect(payloadOf((await unknownId.nextEvent())!).runtimeStatus).toBe('Running');
    unknownId.close();
    await request(job.statusUrl, { method: 'DELETE', headers: TENANT_A });
  });

  it('answers a finished job with its final status and closes; with that event’s id, 204', async () => {
    const job = await start(0);
    await waitFor('the job to complete', async () => (await request(job.statusUrl, { headers: TENANT_A })).status === 200);
    const stream = await openEventStream(eventsUrl(job.statusUrl), TENANT_A);
    const events = await stream.eventsUntilEnd();
    expect(events).toHaveLength(1);
    expect(payloadOf(events[0]).runtimeStatus).toBe('Completed');

    // An EventSource reconnects when a stream closes: 204 tells it nothing more will come.
    const again = await request(eventsUrl(job.statusUrl), { headers: { ...TENANT_A, 'last-event-id': events[0].id! } });
    expect(again.status).toBe(204);
    expect(again.body).toBeUndefined();
  });

  it('ends the stream with Terminated when the job is cancelled', async () => {
    const job = await start(60);
    const stream = await openEventStream(eventsUrl(job.statusUrl), TENANT_A);
    expect((await stream.nextEvent())?.event).toBe('status');
    expect((await request(job.statusUrl, { method: 'DELETE', headers: TENANT_A })).status).toBe(202);
    const rest = await stream.eventsUntilEnd();
    expect(payloadOf(rest.at(-1)!)).toMatchObject({ runtimeStatus: 'Terminated', output: { status: 'terminated' } });
  });

  it('ends the stream when the job ends, even for a client whose Last-Event-ID is ahead of the job', async () => {
    const job = await start(60);
    await waitFor('the job to run', async () => (await request(job.statusUrl, { headers: TENANT_A })).body.runtimeStatus === 'Running');
    const stream = await openEventStream(eventsUrl(job.statusUrl), { ...TENANT_A, 'last-event-id': '99.1.0' });
    expect(stream.status).toBe(200);
    await request(job.statusUrl, { method: 'DELETE', headers: TENANT_A });
    expect(await stream.eventsUntilEnd()).toEqual([]);
  });

  it.each([
    ['another tenant’s job', 404],
    ['an unknown job', 404],
    ['a malformed id', 400],
    ['an id far longer than a UUID', 414],
    ['no API key', 401],
  ])('answers %s with a problem, before any stream', async (what, status) => {
    const job = await start(0);
    const url = {
      'another tenant’s job': eventsUrl(job.statusUrl),
      'an unknown job': `${api.url}/api/jobs/reports/00000000-0000-4000-8000-000000000000/events`,
      'a malformed id': `${api.url}/api/jobs/reports/not-a-uuid/events`,
      'an id far longer than a UUID': `${api.url}/api/jobs/reports/${'a'.repeat(400)}/events`,
      'no API key': eventsUrl(job.statusUrl),
    }[what]!;
    const headers = what === 'no API key' ? {} : what === 'another tenant’s job' ? TENANT_B : TENANT_A;
    const answer = await request(url, { headers });
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status, requestId: expect.any(String) });
  });

  it('answers a purged job with 410', async () => {
    const job = await start(0);
    await waitFor('the job to complete', async () => (await request(job.statusUrl, { headers: TENANT_A })).status === 200);
    expect((await request(`${job.statusUrl}/history`, { method: 'DELETE', headers: TENANT_A })).status).toBe(200);
    const answer = await request(eventsUrl(job.statusUrl), { headers: TENANT_A });
    expect(answer.status).toBe(410);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body.goneAt).toEqual(expect.any(String));
  });

  it('refuses a principal’s streams past SSE_MAX_STREAMS_PER_PRINCIPAL with 429, until one closes', async () => {
    const job = await start(60, TENANT_C);
    const open = [];
    for (let i = 0; i < STREAM_CAP; i++) {
      const stream = await openEventStream(eventsUrl(job.statusUrl), TENANT_C);
      expect(stream.status).toBe(200);
      open.push(stream);
    }
    const refused = await request(eventsUrl(job.statusUrl), { headers: TENANT_C });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // Other principals have streams of their own.
    const other = await start(0);
    const otherStream = await openEventStream(eventsUrl(other.statusUrl), TENANT_A);
    expect(otherStream.status).toBe(200);
    otherStream.close();

    open.pop()!.close();
    const reopened = await waitFor('a stream to be accepted again', async () => {
      const stream = await openEventStream(eventsUrl(job.statusUrl), TENANT_C);
      if (stream.status === 200) return stream;
      stream.close();
      return undefined;
    });
    reopened.close();
    open.forEach((stream) => stream.close());
    await request(job.statusUrl, { method: 'DELETE', headers: TENANT_C });
  });

  it('is described in the OpenAPI document', async () => {
    const document = await request<{ paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> }> } }> }>(`${api.url}/docs-json`);
    const operation = document.body.paths['/api/jobs/reports/{instanceId}/events']?.get;
    expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(['200', '204', '400', '401', '404', '410', '414', '429', '500', '503']);
    expect(Object.keys(operation!.responses['200'].content ?? {})).toEqual(['text/event-stream']);
    expect(Object.keys(operation!.responses['404'].content ?? {})).toEqual(['application/problem+json']);
  });
});

describe('event streams: heartbeats, healing and shutdown', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    [api, worker] = await Promise.all([startApi(redis.url, { SSE_HEARTBEAT_SECONDS: '1' }), startWorker(redis.url)]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  const start = async (delaySeconds: number) => {
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-sse', delay_seconds: delaySeconds });
    return { instanceId: accepted.body.instanceId as string, eventsUrl: `${accepted.body.statusQueryGetUri as string}/events` };
  };
  /** Long jobs are cancelled once a test is done with them, so that the worker stops at once. */
  const cancel = (instanceId: string) => request(`${api.url}/api/jobs/reports/${instanceId}`, { method: 'DELETE' });

  it('sends heartbeat comments every SSE_HEARTBEAT_SECONDS', async () => {
    const job = await start(60);
    const stream = await openEventStream(job.eventsUrl);
    let item = await stream.next();
    while (item && item.kind !== 'comment') item = await stream.next();
    expect(item).toEqual({ kind: 'comment', text: 'heartbeat' });
    stream.close();
    await cancel(job.instanceId);
  });

  it('sends a change no queue event announced, at the latest with the next heartbeat', async () => {
    const job = await start(60);
    const stream = await openEventStream(job.eventsUrl);
    let event = await stream.nextEvent();
    while (event && (JSON.parse(event.data) as Payload).runtimeStatus !== 'Running') event = await stream.nextEvent();
    // Progress written straight into the job, without the event BullMQ adds along with it.
    const progress = { progress: 99, message: 'written without an event', updatedAt: Date.now(), sequence: 1_000 };
    await redis.client().hset(`bull:reports:${job.instanceId}`, 'progress', JSON.stringify(progress));
    for (event = await stream.nextEvent(); event; event = await stream.nextEvent()) {
      if ((JSON.parse(event.data) as Payload).customStatus?.message === progress.message) break;
    }
    expect(event?.id).toMatch(/^1\.1\.1000$/);
    stream.close();
    await cancel(job.instanceId);
  });

  it('ends open streams on SIGTERM, and the API exits 0', async () => {
    const own = await startApi(redis.url);
    const accepted = await postJson(`${own.url}/api/jobs/reports`, { customer_id: 'cust-sse', delay_seconds: 60 });
    const streams = await Promise.all([1, 2].map(() => openEventStream(`${accepted.body.statusQueryGetUri as string}/events`)));
    for (const stream of streams) expect((await stream.nextEvent())?.event).toBe('status');

    expect(await own.stop('SIGTERM')).toBe(0);
    for (const stream of streams) {
      let item = await stream.next();
      while (item) item = await stream.next();
      expect(item).toBeUndefined();
    }
    await cancel(accepted.body.instanceId as string);
  });

  it('exits at once on SIGTERM even while a client holds a connection that sent no request', async () => {
    // Clients open such connections ahead of need: browsers do, and fetch does when it replaces
    // the connection of a stream it closed.
    const own = await startApi(redis.url);
    const idle = connect(Number(new URL(own.url).port), '127.0.0.1');
    await once(idle, 'connect');
    const closedByServer = once(idle, 'close');

    own.child.kill('SIGTERM');
    const exit = await waitFor('the API to exit', async () => (own.child.exitCode === null ? undefined : { code: own.child.exitCode }));
    expect(exit.code).toBe(0);
    await closedByServer;
  });
});
