import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { pollUntilDone, postJson, request } from '../support/http';
import { ancestorsOf, SpanKind, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// The real apps export to a collector this test runs (OTLP over HTTP with JSON bodies),
// so what is asserted is what a tracing backend would receive.

/** A caller's W3C trace context: the trace it is in and its own span. */
function incomingTrace() {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

function tracingOn(receiver: OtlpReceiver, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Short batches, so that spans arrive within a test.
    OTEL_BSP_SCHEDULE_DELAY: '100',
    ...extra,
  };
}

const isRedisCommand = (span: ReceivedSpan) => span.kind === SpanKind.CLIENT && span.attributes['db.system.name'] === 'redis';

describe('traces across the API and the workers', () => {
  let redis: TestRedis;
  let receiver: OtlpReceiver;
  let api: AppProcess;
  let worker: AppProcess;

  const spansOf = (traceId: string) => receiver.spans().filter((span) => span.traceId === traceId);
  const spanOf = (traceId: string, match: Partial<ReceivedSpan>) =>
    spansOf(traceId).find((span) => Object.entries(match).every(([key, value]) => span[key as keyof ReceivedSpan] === value));

  beforeAll(async () => {
    [redis, receiver] = await Promise.all([startTestRedis(), startOtlpReceiver()]);
    [api, worker] = await Promise.all([
      startApi(redis.url, tracingOn(receiver, { JOB_BACKOFF_MS: '100' })),
      // Short locks: BullMQ renews them and checks for stalled jobs every second, so its
      // timers run often while the test watches.
      startWorker(redis.url, tracingOn(receiver, { WORKER_LOCK_DURATION_MS: '1000', SIMULATED_FAILURES: 'cust-flaky=1' })),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await Promise.all([redis?.close(), receiver?.close()]);
  });

  it('puts the request, the enqueue, the attempt and their Redis calls in the caller’s trace', async () => {
    const caller = incomingTrace();
    const accepted = await postJson(
      `${api.url}/api/jobs/reports`,
      { customer_id: 'cust-traced', delay_seconds: 1 },
      { traceparent: caller.traceparent, 'x-request-id': 'traced-request-1' },
    );
    expect(accepted.status).toBe(202);
    const instanceId = accepted.body.instanceId as string;
    await pollUntilDone(accepted.body.statusQueryGetUri as string);
    await waitFor('the attempt’s span', async () => spanOf(caller.traceId, { kind: SpanKind.CONSUMER }));

    const spans = spansOf(caller.traceId);
    const server = spanOf(caller.traceId, { kind: SpanKind.SERVER })!;
    expect(server).toMatchObject({ service: 'report-jobs-api', name: 'POST /api/jobs/reports', parentSpanId: caller.parentId });
    const enqueue = spanOf(caller.traceId, { kind: SpanKind.PRODUCER })!;
    expect(enqueue).toMatchObject({ service: 'report-jobs-api', name: 'add reports.report', parentSpanId: server.spanId });
    const attempt = spanOf(caller.traceId, { kind: SpanKind.CONSUMER })!;
    expect(attempt).toMatchObject({ service: 'report-jobs-worker', name: 'process reports' });
    expect(attempt.attributes['bullmq.job.id']).toBe(instanceId);
    expect(ancestorsOf(attempt, spans)).toContain(enqueue);

    const commands = spans.filter(isRedisCommand);
    // The enqueue's own write sits under the enqueue, not beside it.
    expect(commands.some((command) => command.parentSpanId === enqueue.spanId)).toBe(true);
    expect(commands.some((command) => command.service === 'report-jobs-worker' && ancestorsOf(command, spans).includes(attempt))).toBe(true);
    for (const command of commands) {
      expect(ancestorsOf(command, spans)).toContain(server);
      // Only the command is recorded, never its arguments (job input, secrets).
      expect(JSON.stringify(command.attributes)).not.toContain('cust-traced');
    }

    const requestLines = (await api.settledLogLines()).filter((line) => (line.req as { id?: string } | undefined)?.id === 'traced-request-1');
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of requestLines) expect(line).toMatchObject({ trace_id: caller.traceId, span_id: server.spanId });
    const attemptLines = (await worker.settledLogLines()).filter((line) => line.instanceId === instanceId);
    expect(attemptLines.length).toBeGreaterThanOrEqual(2);
    for (const line of attemptLines) {
      expect(line).toMatchObject({ trace_id: caller.traceId, span_id: attempt.spanId, correlationId: 'traced-request-1' });
    }
  });

  it('puts every attempt of a retried job in the job’s trace', async () => {
    const caller = incomingTrace();
    const accepted = await postJson(
      `${api.url}/api/jobs/reports`,
      { customer_id: 'cust-flaky', delay_seconds: 0 },
      { traceparent: caller.traceparent },
    );
    const done = (await pollUntilDone(accepted.body.statusQueryGetUri as string)).at(-1)!;
    expect(done.body).toMatchObject({ runtimeStatus: 'Completed', attempt: 2 });
    const attempts = await waitFor('both attempts’ spans', async () => {
      const found = spansOf(caller.traceId).filter((span) => span.kind === SpanKind.CONSUMER);
      return found.length === 2 && found;
    });
    const enqueue = spanOf(caller.traceId, { kind: SpanKind.PRODUCER })!;
    for (const attempt of attempts) expect(ancestorsOf(attempt, spansOf(caller.traceId))).toContain(enqueue);
    // The worker's log lines reach the test through a pipe, possibly after the spans.
    const spanIdsLogged = () => new Set(worker.logLines().filter((line) => line.instanceId === accepted.body.instanceId).map((line) => line.span_id));
    await waitFor('both attempts’ log lines', async () => spanIdsLogged().size >= attempts.length);
    expect(spanIdsLogged()).toEqual(new Set(attempts.map((attempt) => attempt.spanId)));
  });

  it('keeps each request’s Redis calls in its own trace when many arrive together', async () => {
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-read', delay_seconds: 0 });
    const statusUrl = accepted.body.statusQueryGetUri as string;
    await pollUntilDone(statusUrl);

    // The API gathers the Redis commands of concurrent requests into one write.
    const callers = Array.from({ length: 20 }, incomingTrace);
    const answers = await Promise.all(callers.map((caller) => request(statusUrl, { headers: { traceparent: caller.traceparent } })));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    await waitFor('every read’s server span', async () =>
      callers.every((caller) => spanOf(caller.traceId, { kind: SpanKind.SERVER })),
    );
    for (const caller of callers) {
      const server = spanOf(caller.traceId, { kind: SpanKind.SERVER })!;
      expect(server.name).toBe('GET /api/jobs/reports/:instanceId');
      // One status read is one Redis command, made by this request.
      const reads = spansOf(caller.traceId).filter((span) => isRedisCommand(span) && span.parentSpanId === server.spanId);
      expect(reads.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('ends a waiting request’s trace with the request', async () => {
    // The first Prefer: wait starts the API's reader of queue events (whether this wait
    // ends early or not does not matter here).
    const first = incomingTrace();
    await postJson(
      `${api.url}/api/jobs/reports`,
      { customer_id: 'cust-wait', delay_seconds: 0 },
      { traceparent: first.traceparent, prefer: 'wait=1' },
    );
    // A later wait is ended by that reader, which keeps reading events after the first
    // request is over.
    const second = incomingTrace();
    const woken = await postJson(
      `${api.url}/api/jobs/reports`,
      { customer_id: 'cust-wait', delay_seconds: 1 },
      { traceparent: second.traceparent, prefer: 'wait=10' },
    );
    expect(woken.status).toBe(200);
    await waitFor('the second request’s span', async () => spanOf(second.traceId, { kind: SpanKind.SERVER }));

    const firstServer = spanOf(first.traceId, { kind: SpanKind.SERVER })!;
    const afterwards = spansOf(first.traceId).filter((span) => span.service === 'report-jobs-api' && span.startNanos > firstServer.endNanos);
    expect(afterwards.map((span) => span.name)).toEqual([]);
  });

  it('records no trace for BullMQ’s own polling and timers', async () => {
    // Idle: the worker polls the queue and checks for stalled jobs every second.
    const client = redis.client();
    const scriptCalls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
    const before = await scriptCalls();
    await waitFor('five more stalled-job checks', async () => (await scriptCalls()) >= before + 5, { timeoutMs: 20_000 });
    // A job's spans arrive after anything the worker exported before them.
    const caller = incomingTrace();
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-last', delay_seconds: 0 }, { traceparent: caller.traceparent });
    await pollUntilDone(accepted.body.statusQueryGetUri as string);
    await waitFor('the job’s spans', async () => spanOf(caller.traceId, { kind: SpanKind.CONSUMER }));

    const all = receiver.spans();
    expect(all.filter((span) => /getNextJob|extendLocks|moveStalledJobsToWait/.test(span.name))).toEqual([]);
    const roots = all.filter((span) => !span.parentSpanId);
    const workerRoots = roots.filter((span) => span.service === 'report-jobs-worker');
    expect(workerRoots.every((span) => span.kind === SpanKind.CONSUMER && span.name === 'process reports')).toBe(true);
    const apiRoots = roots.filter((span) => span.service === 'report-jobs-api');
    expect(apiRoots.length).toBeGreaterThan(0);
    expect(apiRoots.every((span) => span.kind === SpanKind.SERVER)).toBe(true);
    // Health probes (polled by the test's start-up) make no traces either.
    expect(all.filter((span) => span.name.includes('/health'))).toEqual([]);
    expect(receiver.refusedCount()).toBe(0);
  });
});

describe('traces when the apps stop', () => {
  let redis: TestRedis;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    [redis, receiver] = await Promise.all([startTestRedis(), startOtlpReceiver()]);
  });
  afterAll(async () => {
    await Promise.all([redis?.close(), receiver?.close()]);
  });

  it('sends the spans still waiting for their batch before exiting', async () => {
    // Batches every ten minutes: only the shutdown can send these spans in time.
    const env = tracingOn(receiver, { OTEL_BSP_SCHEDULE_DELAY: '600000' });
    const [api, worker] = await Promise.all([startApi(redis.url, env), startWorker(redis.url, env)]);
    const caller = incomingTrace();
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-1', delay_seconds: 0 }, { traceparent: caller.traceparent });
    await pollUntilDone(accepted.body.statusQueryGetUri as string);
    expect(receiver.requestCount()).toBe(0);

    expect(await api.stop()).toBe(0);
    expect(await worker.stop()).toBe(0);
    const kinds = receiver.spans().filter((span) => span.traceId === caller.traceId).map((span) => span.kind);
    expect(kinds).toEqual(expect.arrayContaining([SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER]));
  });
});

describe('tracing off', () => {
  let redis: TestRedis;
  let receiver: OtlpReceiver;
  let dir: string;

  beforeAll(async () => {
    [redis, receiver] = await Promise.all([startTestRedis(), startOtlpReceiver()]);
    dir = mkdtempSync(join(tmpdir(), 'report-jobs-modules-'));
  });
  afterAll(async () => {
    await Promise.all([redis?.close(), receiver?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the app with a preload that lists, on exit, the modules it loaded. */
  const listingModules = (env: Record<string, string>, name: string) => ({
    ...env,
    NODE_OPTIONS: `--require=${join(__dirname, '../support/report-loaded-modules.cjs')}`,
    REPORT_LOADED_MODULES_TO: join(dir, name),
  });
  const openTelemetryModules = (name: string) => {
    const loaded = readFileSync(join(dir, name), 'utf8').split('\n');
    expect(loaded.some((path) => path.includes('/node_modules/bullmq/'))).toBe(true);
    // The API package alone is a no-op facade that prom-client loads when it is installed;
    // what costs (the SDK, the instrumentations, BullMQ's telemetry) must stay unloaded.
    return loaded.filter((path) => /@opentelemetry\/(?!api\/)|bullmq-otel/.test(path));
  };

  it.each([
    ['no OTEL_* variable', () => ({})],
    ['OTEL_SDK_DISABLED=true', () => tracingOn(receiver, { OTEL_SDK_DISABLED: 'true' })],
    ['OTEL_TRACES_EXPORTER=none', () => tracingOn(receiver, { OTEL_TRACES_EXPORTER: 'none' })],
  ])('with %s the apps run jobs, load and send nothing of tracing, and log no trace ids', async (_case, env) => {
    const [api, worker] = await Promise.all([
      startApi(redis.url, listingModules(env(), 'api')),
      startWorker(redis.url, listingModules(env(), 'worker')),
    ]);
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-1', delay_seconds: 0 }, { traceparent: incomingTrace().traceparent });
    const done = (await pollUntilDone(accepted.body.statusQueryGetUri as string)).at(-1)!;
    expect(done.body.runtimeStatus).toBe('Completed');
    // A graceful stop would send whatever an SDK had queued.
    expect(await api.stop()).toBe(0);
    expect(await worker.stop()).toBe(0);

    expect(receiver.requestCount()).toBe(0);
    expect(openTelemetryModules('api')).toEqual([]);
    expect(openTelemetryModules('worker')).toEqual([]);
    const lines = [...api.logLines(), ...worker.logLines()];
    expect(lines.some((line) => line.instanceId === accepted.body.instanceId)).toBe(true);
    expect(lines.filter((line) => 'trace_id' in line || 'span_id' in line)).toEqual([]);
  });
});
