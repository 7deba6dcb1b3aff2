import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { Environment, validateEnvironment } from '@report-jobs/config';
import { ApiMetricsModule } from '../../apps/api/src/metrics/metrics.module';
import { JobWaiter } from '../../apps/api/src/reports/job-waiter';
import { ReportsModule } from '../../apps/api/src/reports/reports.module';
import { API_MAIN, startApi, startApiAnswering, startWorker, startWorkerAnswering, type AppProcess } from '../support/apps';
import { launchBrowser } from '../support/browser';
import { openEventStream } from '../support/event-stream';
import { ancestorsOf, SpanKind, startOtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { freePort } from '../support/free-port';
import { pollUntilDone, postJson, request, type JsonResponse } from '../support/http';
import { scrape, valueOf } from '../support/metrics';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';
import { keySlot, shardIndexOf, shardPrefixes } from '@report-jobs/queue';

const PREFIX = '{report-jobs}';
const SHARDS = 3;
const KEYS = { main: 'key-of-main-0001', limited: 'key-of-limited-02', admin: 'key-of-the-ops-03' };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
const webhookVerifier = new Webhook(webhookSecret);

// The whole contract on a real Redis Cluster of three masters, the jobs spread over three
// shards (queues whose hash tags land on different masters): every script and transaction
// must keep to one slot, or Redis refuses it (CROSSSLOT, or a key not local to the node).
describe('on a Redis Cluster with sharded queues', () => {
  let cluster: TestRedisCluster;
  let api: AppProcess;
  let workers: AppProcess[];
  const prefixes = shardPrefixes(PREFIX, SHARDS);
  const redisEnv = () => ({ REDIS_CLUSTER_NODES: cluster.seeds, QUEUE_PREFIX: PREFIX, QUEUE_SHARDS: String(SHARDS) });
  const policy = {
    JOB_ATTEMPTS: '3',
    JOB_BACKOFF_MS: '300',
    JOB_RETENTION_COMPLETED_SECONDS: '3',
    JOB_RETENTION_FAILED_SECONDS: '3',
    MAX_PREFER_WAIT_SECONDS: '5',
    API_KEYS: `main:${KEYS.main},limited:${KEYS.limited}`,
    ADMIN_API_KEYS: `ops:${KEYS.admin}`,
    // Callbacks of key-less calls, delivered to the local receiver.
    WEBHOOK_SECRETS: `anonymous:${webhookSecret}`,
    WEBHOOK_ALLOW_INSECURE: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    // No heartbeat within a test: an event stream moves on the queue events of its job's shard only.
    SSE_HEARTBEAT_SECONDS: '300',
  };
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    [cluster, receiver] = await Promise.all([startRedisCluster({ masters: 3 }), WebhookReceiver.start()]);
    // One job per shard at a time in each worker: two workers give each shard two slots.
    const workerEnv = { ...policy, WORKER_CONCURRENCY: '3', SIMULATED_FAILURES: 'cust-flaky=2,cust-broken=*' };
    [api, ...workers] = await Promise.all([startApi(redisEnv(), policy), startWorker(redisEnv(), workerEnv), startWorker(redisEnv(), workerEnv)]);
  });
  afterAll(async () => {
    await Promise.all([api, ...(workers ?? [])].map((app) => app?.stop()));
    await Promise.all([cluster?.close(), receiver?.close()]);
  });

  const reports = () => `${api.url}/api/jobs/reports`;
  const start = async (body: object, headers: Record<string, string> = {}) => {
    const answer = await postJson(reports(), body, headers);
    expect([200, 202]).toContain(answer.status);
    return answer;
  };
  const statusOf = (job: JsonResponse) => request(job.body.statusQueryGetUri as string);
  const shardOf = (job: JsonResponse) => shardIndexOf(job.body.instanceId as string, SHARDS);
  const jobKey = (id: string) => `${prefixes[shardIndexOf(id, SHARDS)]}:reports:${id}`;

  it('puts each shard on its own master and spreads the jobs over them', async () => {
    const masters = prefixes.map((prefix) => cluster.masterOf(keySlot(prefix)).address);
    expect(new Set(masters).size).toBe(SHARDS);
    const jobs = await Promise.all(Array.from({ length: 30 }, (_, i) => start({ customer_id: `spread-${i}`, delay_seconds: 0 })));
    const perShard = [0, 1, 2].map((shard) => jobs.filter((job) => shardOf(job) === shard).length);
    for (const count of perShard) expect(count).toBeGreaterThan(0);
    // Each job is stored on the master of its shard's slot, under the shard's prefix.
    for (const job of jobs.slice(0, 6)) {
      const id = job.body.instanceId as string;
      const master = cluster.masterOf(keySlot(prefixes[shardOf(job)])).client();
      expect(await master.exists(jobKey(id))).toBe(1);
    }
    for (const job of jobs) expect((await pollUntilDone(job.body.statusQueryGetUri as string)).at(-1)!.body.runtimeStatus).toBe('Completed');
    // The workers ran jobs of every shard.
    await Promise.all(workers.map((worker) => worker.settledLogLines()));
    const shardsRun = new Set(
      workers
        .flatMap((worker) => worker.logLines())
        .filter((line) => line.msg === 'Attempt completed' && jobs.some((job) => job.body.instanceId === line.instanceId))
        .map((line) => shardIndexOf(line.instanceId as string, SHARDS)),
    );
    expect(shardsRun.size).toBe(SHARDS);
    const logged = workers[0].logLines().find((line) => String(line.msg).startsWith('Shards: '));
    expect(String(logged?.msg)).toContain(prefixes[2]);
    expect(workers[0].logLines().filter((line) => /share \d master/.test(String(line.msg)))).toEqual([]);
  });

  it('runs the seed flow: 202 with Location and Retry-After, 202 Running with progress, then 200 Completed', async () => {
    const accepted = await start({ customer_id: 'cust-123', operation: 'rebuild-report', delay_seconds: 2 });
    expect(accepted.status).toBe(202);
    const statusUrl = accepted.body.statusQueryGetUri as string;
    expect(accepted.headers.get('location')).toBe(statusUrl);
    expect(accepted.headers.get('retry-after')).toBe('2');
    const answers = await pollUntilDone(statusUrl);
    expect(answers.some((answer) => answer.status === 202 && answer.body.runtimeStatus === 'Running')).toBe(true);
    expect(answers.at(-1)!.status).toBe(200);
    expect(answers.at(-1)!.body).toMatchObject({
      runtimeStatus: 'Completed',
      output: { status: 'completed', instanceId: accepted.body.instanceId, result: { customerId: 'cust-123', operation: 'rebuild-report' } },
    });
  });

  it('retries failed attempts, then completes; fails for good when every attempt fails', async () => {
    const flaky = await start({ customer_id: 'cust-flaky', delay_seconds: 0 });
    const answers = await pollUntilDone(flaky.body.statusQueryGetUri as string, { intervalMs: 50 });
    expect(answers.some((answer) => answer.status === 202 && typeof answer.body.lastError === 'string')).toBe(true);
    expect(answers.at(-1)!.body).toMatchObject({ runtimeStatus: 'Completed', attempt: 3 });
    const broken = await start({ customer_id: 'cust-broken', delay_seconds: 0 });
    const failed = (await pollUntilDone(broken.body.statusQueryGetUri as string)).at(-1)!;
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ runtimeStatus: 'Failed', attempt: 3 });
  });

  it('terminates a pending job at once and a running one on the worker that runs it', async () => {
    // Each shard runs two jobs at a time (one per worker): the third long job of a shard waits.
    const long: JsonResponse[] = [];
    let pending: JsonResponse | undefined;
    while (!pending && long.length < 40) {
      const job = await start({ customer_id: `long-${long.length}`, delay_seconds: 30 });
      long.push(job);
      if (long.filter((other) => shardOf(other) === shardOf(job)).length === 3) pending = job;
    }
    const running = long.find((job) => job !== pending && shardOf(job) === shardOf(pending!))!;
    await waitFor('a long job of that shard to run', async () => (await statusOf(running)).body.runtimeStatus === 'Running');
    expect((await statusOf(pending!)).body.runtimeStatus).toBe('Pending');

    const cancelled = await request(pending!.body.statusQueryGetUri as string, { method: 'DELETE' });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.runtimeStatus).toBe('Terminated');

    const terminating = await request(`${running.body.terminatePostUri}`.replace('{text}', 'not%20needed'), { method: 'POST' });
    expect(terminating.status).toBe(202);
    const done = (await pollUntilDone(running.body.statusQueryGetUri as string)).at(-1)!;
    expect(done.body).toMatchObject({ runtimeStatus: 'Terminated', attempt: 1, output: { status: 'terminated', reason: 'not needed' } });

    await Promise.all(long.map((job) => request(job.body.statusQueryGetUri as string, { method: 'DELETE' })));
    for (const job of long) await waitFor('every long job to end', async () => (await statusOf(job)).status !== 202);
  });

  it('purges a finished job (then 410) and refuses a running one (409)', async () => {
    const job = await start({ customer_id: 'purge-1', delay_seconds: 0 });
    await pollUntilDone(job.body.statusQueryGetUri as string);
    const purged = await request(job.body.purgeHistoryDeleteUri as string, { method: 'DELETE' });
    expect(purged.status).toBe(200);
    expect(purged.body).toEqual({ instancesDeleted: 1 });
    const after = await statusOf(job);
    expect(after.status).toBe(410);
    expect(after.body.detail).toMatch(/was purged at/);

    const busy = await start({ customer_id: 'purge-2', delay_seconds: 5 });
    expect((await request(busy.body.purgeHistoryDeleteUri as string, { method: 'DELETE' })).status).toBe(409);
    await request(busy.body.statusQueryGetUri as string, { method: 'DELETE' });
  });

  it('removes finished jobs after their retention and answers 410, not 404', async () => {
    const job = await start({ customer_id: 'expire-1', delay_seconds: 0 });
    expect((await pollUntilDone(job.body.statusQueryGetUri as string)).at(-1)!.status).toBe(200);
    const expired = await waitFor(
      'the job to expire',
      async () => {
        const answer = await statusOf(job);
        return answer.status === 410 ? answer : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(expired.body.detail).toMatch(/expired under the retention policy/);
    expect(await cluster.client().exists(jobKey(job.body.instanceId as string))).toBe(0);
  });

  it('lists the jobs of every shard in creation order, each once, following the continuation token', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const created = [];
    for (let i = 0; i < 12; i++) created.push(await start({ customer_id: `list-${i}`, delay_seconds: 30 }, bearer(KEYS.main)));
    expect(new Set(created.map(shardOf)).size).toBe(SHARDS);
    const seen: Array<{ instanceId: string; createdTime: string }> = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const query: URLSearchParams = new URLSearchParams({ top: '5', createdTimeFrom: since, ...(token ? { continuationToken: token } : {}) });
      const page: JsonResponse<{ items: Array<{ instanceId: string; createdTime: string }>; continuationToken: string | null }> = await request<{ items: Array<{ instanceId: string; createdTime: string }>; continuationToken: string | null }>(
        `${reports()}?${query}`,
        { headers: bearer(KEYS.main) },
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(5);
      seen.push(...page.body.items);
      token = page.body.continuationToken;
      // A job arriving between pages sorts after them: the token still resumes exactly.
      if (pages++ === 0) created.push(await start({ customer_id: 'list-late', delay_seconds: 30 }, bearer(KEYS.main)));
    } while (token && pages < 20);
    expect(seen.map((item) => item.instanceId)).toEqual(created.map((job) => job.body.instanceId));
    const times = seen.map((item) => Date.parse(item.createdTime));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    await Promise.all(created.map((job) => request(job.body.statusQueryGetUri as string, { method: 'DELETE', headers: bearer(KEYS.main) })));
  });

  it('creates exactly one job for concurrent repeats of an Idempotency-Key, and refuses the key with another body', async () => {
    const submitted = async () => valueOf(await scrape(api.metricsUrl), 'report_jobs_submitted_total', { operation: 'rebuild-report' }) ?? 0;
    const before = await submitted();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => postJson(reports(), { customer_id: 'idem-1', delay_seconds: 0 }, { 'idempotency-key': 'cluster-key-1' })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(202));
    expect(new Set(answers.map((answer) => answer.body.instanceId)).size).toBe(1);
    expect(await submitted()).toBe(before + 1);
    const other = await postJson(reports(), { customer_id: 'idem-other', delay_seconds: 0 }, { 'idempotency-key': 'cluster-key-1' });
    expect(other.status).toBe(422);
    await pollUntilDone(answers[0].body.statusQueryGetUri as string);
    const repeat = await postJson(reports(), { customer_id: 'idem-1', delay_seconds: 0 }, { 'idempotency-key': 'cluster-key-1' });
    expect(repeat.body.instanceId).toBe(answers[0].body.instanceId);
  });

  it('holds a Prefer: wait until the job ends, on the POST and on the status read', async () => {
    const answer = await start({ customer_id: 'wait-1', delay_seconds: 1 }, { prefer: 'wait=4' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('preference-applied')).toBe('wait=4');
    expect(answer.body.runtimeStatus).toBe('Completed');
    // Jobs of every shard wake their waiters.
    const jobs = await Promise.all(Array.from({ length: 6 }, (_, i) => start({ customer_id: `wait-${i}`, delay_seconds: 1 })));
    expect(new Set(jobs.map(shardOf)).size).toBeGreaterThan(1);
    const waited = await Promise.all(
      jobs.map((job) => request(job.body.statusQueryGetUri as string, { headers: { prefer: 'wait=5' }, signal: AbortSignal.timeout(8000) })),
    );
    for (const done of waited) expect(done.body.runtimeStatus).toBe('Completed');
  });

  /** Starts jobs until one has landed on each of `shards`; answers them by shard. */
  const startOnShards = async (shards: number[], body: (n: number) => object, submit: (body: object) => Promise<JsonResponse> = start) => {
    const byShard = new Map<number, JsonResponse>();
    for (let n = 0; byShard.size < shards.length && n < 60; n++) {
      const job = await submit(body(n));
      if (shards.includes(shardOf(job)) && !byShard.has(shardOf(job))) byShard.set(shardOf(job), job);
    }
    expect([...byShard.keys()].sort()).toEqual(shards);
    return byShard;
  };

  /** Waits for the first webhook the receiver got for this job. */
  const deliveryOf = (job: JsonResponse, shard: number) =>
    waitFor(`the webhook of the job on shard ${shard}`, async () =>
      receiver.received.find((delivery) => delivery.body.includes(`"instanceId":"${job.body.instanceId as string}"`)),
    );

  it('wakes a Prefer: wait on a job of every shard, on the first wait after the start', async () => {
    // The API's waiting machinery in this process, on the cluster: an end announced right
    // after the waiter's check, on the stream of the job's shard, must wake it; the wait
    // is far longer than the test, so only that announcement can end it in time.
    const env = validateEnvironment({ ...redisEnv(), METRICS_PORT: '0', LOG_LEVEL: 'silent' });
    @Global()
    @Module({ providers: [{ provide: Environment, useValue: env }], exports: [Environment] })
    class ClusterConfigModule {}
    @Module({ imports: [ClusterConfigModule, ApiMetricsModule, ReportsModule] })
    class WaitingModule {}
    const app = await NestFactory.createApplicationContext(WaitingModule, { logger: false });
    try {
      const waiter = app.get(JobWaiter);
      const client = cluster.client();
      const woken = new Set<number>();
      prefixes.forEach((prefix, shard) => {
        let instanceId = randomUUID();
        while (shardIndexOf(instanceId, SHARDS) !== shard) instanceId = randomUUID();
        // What BullMQ adds to the shard's event stream when the job completes.
        const hasEnded = async () => {
          await client.xadd(`${prefix}:reports:events`, '*', 'event', 'completed', 'jobId', instanceId, 'returnvalue', '{}', 'prev', 'active');
          return false;
        };
        void waiter.waitForEnd(instanceId, 3_600_000, hasEnded).then(() => woken.add(shard));
      });
      await waitFor('a waiter on each shard to be woken by the completion', async () => woken.size === SHARDS);
    } finally {
      await app.close();
    }
  });

  it('streams the live events of a job on every shard, to its final status', async () => {
    const jobs = await startOnShards([0, 1, 2], (n) => ({ customer_id: `stream-${n}`, delay_seconds: 3 }));
    await Promise.all(
      [...jobs.values()].map(async (job) => {
        const stream = await openEventStream(`${job.body.statusQueryGetUri}/events`);
        expect(stream.status).toBe(200);
        const events = await stream.eventsUntilEnd();
        const payloads = events.map((event) => JSON.parse(event.data) as { instanceId: string; runtimeStatus: string; customStatus: unknown });
        expect(payloads.every((payload) => payload.instanceId === job.body.instanceId)).toBe(true);
        expect(payloads.map((payload) => payload.runtimeStatus).join(' ')).toMatch(/^(Pending )*(Running )+Completed$/);
        // The worker's progress reports (one a second) came as events too.
        expect(payloads.some((payload) => payload.runtimeStatus === 'Running' && payload.customStatus !== null)).toBe(true);
        const ids = events.map((event) => event.id!.split('.').map(Number));
        for (let i = 1; i < ids.length; i++) expect(ids[i][0] - ids[i - 1][0] || ids[i][1] - ids[i - 1][1] || ids[i][2] - ids[i - 1][2]).toBeGreaterThan(0);
      }),
    );
  });

  it("delivers the webhook of a job on every shard, signed, and records it on the job's shard", async () => {
    const jobs = await startOnShards([0, 1, 2], (n) => ({ customer_id: `hook-${n}`, delay_seconds: 0, callback_url: receiver.url(`/ended-${n}`) }));
    // The shards side by side: this suite keeps finished jobs 3 s, and the recorded state
    // goes with its job.
    await Promise.all(
      [...jobs].map(async ([shard, job]) => {
        const delivery = await deliveryOf(job, shard);
        expect(webhookVerifier.verify(delivery.body, delivery.headers)).toMatchObject({
          type: 'report.completed',
          data: { instanceId: job.body.instanceId, runtimeStatus: 'Completed' },
        });
        const callback = await waitFor(`the delivery on shard ${shard} to be recorded`, async () => {
          const status = await statusOf(job);
          return (status.body.callback as { state?: string } | undefined)?.state === 'delivered' && status.body.callback;
        });
        expect(callback).toMatchObject({ state: 'delivered', attempts: 1 });
      }),
    );
    // Each shard's outbox is empty again, and the delivery queue lives in the home shard's slot.
    for (const prefix of prefixes) {
      const master = cluster.masterOf(keySlot(prefix)).client();
      expect(await master.zcard(`${prefix}:reports:rj:webhook-outbox`)).toBe(0);
    }
    expect(await cluster.masterOf(keySlot(PREFIX)).client().exists(`${PREFIX}:report-webhooks:id`)).toBe(1);
  });

  it('delivers the webhooks of jobs terminated while queued on non-zero shards, relayed from their outboxes', async () => {
    // A deployment of its own, without a worker at first: the cancel ends each queued job in
    // the API's atomic script, which enters it in its shard's outbox; no worker ever ends it,
    // so only a worker's poll of every shard's outbox can queue its delivery.
    const deployment = { ...redisEnv(), QUEUE_PREFIX: '{hooks}' };
    const hooksApi = await startApi(deployment, policy);
    let hooksWorker: AppProcess | undefined;
    try {
      const submit = (body: object) => postJson(`${hooksApi.url}/api/jobs/reports`, body);
      const jobs = await startOnShards([1, 2], (n) => ({ customer_id: `queued-${n}`, delay_seconds: 0, callback_url: receiver.url(`/queued-${n}`) }), submit);
      for (const job of jobs.values()) {
        const cancelled = await request(`${job.body.statusQueryGetUri}/terminate?reason=not%20wanted`, { method: 'POST' });
        expect(cancelled.body).toMatchObject({ runtimeStatus: 'Terminated', callback: { state: 'pending', attempts: 0 } });
      }
      hooksWorker = await startWorker(deployment, policy);
      for (const [shard, job] of jobs) {
        const delivery = await deliveryOf(job, shard);
        expect(webhookVerifier.verify(delivery.body, delivery.headers)).toMatchObject({
          type: 'report.terminated',
          data: { instanceId: job.body.instanceId, runtimeStatus: 'Terminated', output: { reason: 'not wanted' } },
        });
      }
      await Promise.all([hooksApi, hooksWorker].map((app) => app.settledLogLines()));
      const slotErrors = [hooksApi, hooksWorker].flatMap((app) => app.logLines()).filter((line) => /CROSSSLOT|non local key|MOVED|ASK /.test(JSON.stringify(line)));
      expect(slotErrors).toEqual([]);
    } finally {
      await Promise.all([hooksApi.stop(), hooksWorker?.stop()]);
    }
  });

  it('shares the rate limits between API replicas through the home shard', async () => {
    const env = { ...policy, RATE_LIMIT_SUBMITS_PER_MINUTE: '6' };
    const replicas = await Promise.all([startApi(redisEnv(), env), startApi(redisEnv(), env)]);
    try {
      const submit = async (replica: AppProcess) =>
        (await postJson(`${replica.url}/api/jobs/reports`, { customer_id: 'budget', delay_seconds: 0 }, bearer(KEYS.limited))).status;
      const first: number[] = [];
      for (let i = 0; i < 4; i++) first.push(await submit(replicas[0]));
      expect(first).toEqual([202, 202, 202, 202]);
      // The first replica's counts reach the shared total, on the master of the home shard's slot.
      const home = cluster.masterOf(keySlot(PREFIX)).client();
      await waitFor('the counts to be shared', async () => {
        const keys = await home.keys(`${PREFIX}:reports:rj:rate:submit:limited:*`);
        const counts = await Promise.all(keys.map((key) => home.get(key)));
        return counts.reduce((sum, count) => sum + Number(count), 0) >= 4;
      });
      const second: number[] = [];
      for (let i = 0; i < 4; i++) second.push(await submit(replicas[1]));
      expect(second.filter((status) => status === 202).length).toBeLessThanOrEqual(3);
      expect(second.at(-1)).toBe(429);
    } finally {
      await Promise.all(replicas.map((replica) => replica.stop()));
    }
  });

  it('reports the queue over all shards in the metrics of both apps, and the attempts of the workers', async () => {
    const api_ = await scrape(api.metricsUrl);
    expect(valueOf(api_, 'report_jobs_redis_up')).toBe(1);
    expect(valueOf(api_, 'report_jobs_queue_jobs', { state: 'completed' })).toBeGreaterThan(0);
    const worker = await scrape(workers[0].metricsUrl);
    expect(valueOf(worker, 'report_jobs_redis_up')).toBe(1);
    const completed = await Promise.all(workers.map(async (each) => valueOf(await scrape(each.metricsUrl), 'report_jobs_attempts_total', { operation: 'rebuild-report', outcome: 'completed' }) ?? 0));
    expect(completed.reduce((sum, count) => sum + count, 0)).toBeGreaterThan(30);
  });

  it('shows each shard as a queue of the dashboard, named by its prefix', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.browser.newPage();
      const board: number[] = [];
      page.on('response', (response) => response.url().includes('/admin/queues/api/') && board.push(response.status()));
      await page.authenticate({ username: 'ops', password: KEYS.admin });
      await page.goto(`${api.url}/admin/queues`, { waitUntil: 'load' });
      for (const prefix of prefixes) {
        await page.waitForFunction(`document.body && document.body.innerText.includes(${JSON.stringify(`${prefix}:reports`)})`, { timeout: 15_000 });
      }
      expect(board.length).toBeGreaterThan(0);
      expect(board.every((status) => status === 200)).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it("traces a request's Redis commands on the cluster under the request, also when many arrive together", async () => {
    const receiver = await startOtlpReceiver();
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' };
    // The API only: the suite's workers, not traced, may run the job.
    const traced = await startApi(redisEnv(), { ...policy, ...tracing });
    try {
      const caller = () => {
        const traceId = randomBytes(16).toString('hex');
        return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
      };
      const spansOf = (traceId: string) => receiver.spans().filter((span) => span.traceId === traceId);
      const isRedisCommand = (span: ReceivedSpan) => span.kind === SpanKind.CLIENT && span.attributes['db.system.name'] === 'redis';
      const submitter = caller();
      const accepted = await postJson(`${traced.url}/api/jobs/reports`, { customer_id: 'traced', delay_seconds: 0 }, { traceparent: submitter.traceparent });
      expect(accepted.status).toBe(202);
      const enqueue = await waitFor('the enqueue span', async () => spansOf(submitter.traceId).find((span) => span.kind === SpanKind.PRODUCER));
      const server = spansOf(submitter.traceId).find((span) => span.kind === SpanKind.SERVER)!;
      expect(ancestorsOf(enqueue, spansOf(submitter.traceId))).toContain(server);
      // The enqueue's own write, sent to the master of the job's shard, sits under the enqueue.
      await waitFor('the enqueue write span', async () =>
        spansOf(submitter.traceId).some((span) => isRedisCommand(span) && span.parentSpanId === enqueue.spanId),
      );

      // Status reads of jobs on every shard, gathered by the cluster client into per-node pipelines.
      const jobs = await Promise.all(Array.from({ length: 6 }, (_, i) => start({ customer_id: `read-${i}`, delay_seconds: 0 })));
      const readers = jobs.map(caller);
      await Promise.all(jobs.map((job, i) => request(`${traced.url}/api/jobs/reports/${job.body.instanceId}`, { headers: { traceparent: readers[i].traceparent } })));
      for (const reader of readers) {
        const server = await waitFor('the read span', async () => spansOf(reader.traceId).find((span) => span.kind === SpanKind.SERVER));
        expect(spansOf(reader.traceId).filter((span) => isRedisCommand(span) && span.parentSpanId === server.spanId).length).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await traced.stop();
      await receiver.close();
    }
  });

  it('is ready on every shard, and never met a cross-slot or non-local key error', async () => {
    expect((await request(`${api.url}/health/ready`)).status).toBe(200);
    for (const worker of workers) expect((await request(`${worker.url}/health/ready`)).status).toBe(200);
    await Promise.all([api, ...workers].map((app) => app.settledLogLines()));
    const slotErrors = [api, ...workers].flatMap((app) => app.logLines()).filter((line) => /CROSSSLOT|non local key|MOVED|ASK /.test(JSON.stringify(line)));
    expect(slotErrors).toEqual([]);
  });

  describe('refuses to run where it would lose track of jobs', () => {
    /** Starts an API expected to stop at boot, and answers its exit code and output. */
    const bootFailure = async (env: Record<string, string>) => {
      const child = spawn(process.execPath, [API_MAIN], {
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ALLOW_ANONYMOUS: 'true', HOST: '127.0.0.1', PORT: String(await freePort()), METRICS_PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { code, output };
    };

    it('a QUEUE_SHARDS other than the one its jobs are spread over', async () => {
      const { code, output } = await bootFailure({ ...redisEnv(), QUEUE_SHARDS: '2' });
      expect(code).toBe(1);
      expect(output).toContain('QUEUE_SHARDS=2, but this deployment\'s jobs are spread over 3 shard(s)');
    });

    it('a prefix without a hash tag', async () => {
      const { code, output } = await bootFailure({ ...redisEnv(), QUEUE_PREFIX: 'report-jobs', QUEUE_SHARDS: '1' });
      expect(code).toBe(1);
      expect(output).toMatch(/QUEUE_PREFIX="report-jobs" has no hash tag/);
    });

    it('a REDIS_URL naming a cluster node: not ready, and the log says what to set', async () => {
      const url = `redis://${cluster.masters[0].address}`;
      const misdirected = await Promise.all([startApiAnswering(url), startWorkerAnswering(url)]);
      try {
        for (const app of misdirected) {
          // Ready would need every shard's master to take a write: the node answers MOVED for most slots.
          expect((await request(`${app.url}/health/ready`)).status).toBe(503);
          await waitFor('the hint in the log', async () =>
            app.logLines().some((line) => String(line.msg).includes('REDIS_URL names a node of a Redis Cluster')),
          );
        }
      } finally {
        await Promise.all(misdirected.map((app) => app.stop()));
      }
    });
  });
});
