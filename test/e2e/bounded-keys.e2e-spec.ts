import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { pollUntilDone, postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

// Nothing the service keeps in Redis grows without bound: after every lifecycle a job can
// have (complete, fail, terminate pending, terminate running, purge, expire, with and without
// a webhook delivered, refused with 410 or queued by the outbox), with short
// retentions, once everything has expired the keyspace is the same fixed set of keys
// whatever the number of jobs, and the keys that remain are bounded themselves.
describe('keys in Redis after every lifecycle', () => {
  const KEYS = { 'tenant-a': 'key-of-tenant-a', 'tenant-b': 'key-of-tenant-b' };
  const TENANTS = Object.keys(KEYS) as Array<keyof typeof KEYS>;
  /** A small events stream, so that the runs below overflow it. */
  const MAX_EVENTS = 50;
  const retention = { JOB_RETENTION_COMPLETED_SECONDS: '1', JOB_RETENTION_FAILED_SECONDS: '1', JOB_GONE_RETENTION_SECONDS: '2' };
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const webhooks = {
    WEBHOOK_SECRETS: TENANTS.map((tenant) => `${tenant}:${secret}`).join(','),
    WEBHOOK_ALLOW_INSECURE: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  };
  let receiver: WebhookReceiver;
  let redis: TestRedis;
  let api: AppProcess;
  let workers: AppProcess[] = [];

  beforeAll(async () => {
    [redis, receiver] = await Promise.all([startTestRedis(), WebhookReceiver.start()]);
    receiver.answer('/gone', { status: 410 });
    api = await startApi(redis.url, {
      ...retention,
      ...webhooks,
      ALLOW_ANONYMOUS: 'false',
      API_KEYS: Object.entries(KEYS).map(([tenant, key]) => `${tenant}:${key}`).join(','),
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '100',
    });
  });
  afterAll(async () => {
    await Promise.all([api, ...workers].map((app) => app?.stop()));
    await receiver?.close();
    await redis?.close();
  });

  const startWorkers = async () => {
    const env = { ...retention, ...webhooks, WORKER_CONCURRENCY: '20', SIMULATED_FAILURES: 'keys-fail=*' };
    workers = await Promise.all([startWorker(redis.url, env), startWorker(redis.url, env)]);
    // Every queue handle writes BullMQ's default (10,000) when it starts; once a job has gone
    // through the new ones, lower it.
    const warmUp = await submit(0, { customer_id: 'keys-warm-up', delay_seconds: 0 });
    await settle(0, warmUp.statusQueryGetUri);
    await redis.client().hset('bull:reports:meta', 'opts.maxLenEvents', MAX_EVENTS);
  };
  const stopWorkers = async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    workers = [];
  };

  const headersOf = (i: number) => ({ authorization: `Bearer ${KEYS[TENANTS[i % TENANTS.length]]}` });
  const submit = async (i: number, body: object, headers: Record<string, string> = {}) => {
    const accepted = await postJson(`${api.url}/api/jobs/reports`, body, { ...headersOf(i), ...headers });
    expect(accepted.status).toBe(202);
    return accepted.body as { instanceId: string; statusQueryGetUri: string; purgeHistoryDeleteUri: string };
  };
  const settle = async (i: number, statusUrl: string) => (await pollUntilDone(statusUrl, { headers: headersOf(i), intervalMs: 100 })).at(-1)!.body;
  const cancel = (i: number, statusUrl: string) => request(statusUrl, { method: 'DELETE', headers: headersOf(i) });

  /** Runs every lifecycle `count` times, spread over two tenants, and waits until all of it has expired. */
  async function runLifecycles(count: number, run: string): Promise<void> {
    const each = Array.from({ length: count }, (_, i) => i);
    // Terminate pending, while no worker runs, and keep the workers down for longer than a
    // terminated job is kept and the record it leaves after: nothing may depend on a worker
    // being there to clean up in time.
    await stopWorkers();
    for (const i of each) {
      const job = await submit(i, { customer_id: 'keys-pending', delay_seconds: 0 }, { 'idempotency-key': `${run}-pending-${i}` });
      expect((await cancel(i, job.statusQueryGetUri)).body.runtimeStatus).toBe('Terminated');
      // Its webhook waits in the outbox for a worker.
      const hooked = await submit(i, { customer_id: 'keys-pending', delay_seconds: 0, callback_url: receiver.url(`/${run}`) });
      expect((await cancel(i, hooked.statusQueryGetUri)).body.runtimeStatus).toBe('Terminated');
    }
    await sleep((Number(retention.JOB_RETENTION_FAILED_SECONDS) + Number(retention.JOB_GONE_RETENTION_SECONDS)) * 1000 + 500);
    await startWorkers();
    await Promise.all(
      each.map(async (i) => {
        const completed = await submit(i, { customer_id: 'keys-done', delay_seconds: 0 }, { 'idempotency-key': `${run}-done-${i}` });
        expect(await settle(i, completed.statusQueryGetUri)).toMatchObject({ runtimeStatus: 'Completed' });
        for (const path of [`/${run}`, '/gone']) {
          const hooked = await submit(i, { customer_id: 'keys-done', delay_seconds: 0, callback_url: receiver.url(path) });
          await settle(i, hooked.statusQueryGetUri);
        }
        const failed = await submit(i, { customer_id: 'keys-fail', delay_seconds: 0 });
        expect(await settle(i, failed.statusQueryGetUri)).toMatchObject({ runtimeStatus: 'Failed', attempt: 2 });
        const purged = await submit(i, { customer_id: 'keys-purge', delay_seconds: 0 });
        await settle(i, purged.statusQueryGetUri);
        expect((await request(purged.purgeHistoryDeleteUri, { method: 'DELETE', headers: headersOf(i) })).status).toBe(200);
        const running = await submit(i, { customer_id: 'keys-running', delay_seconds: 30 });
        await waitFor('the job to run', async () => (await request(running.statusQueryGetUri, { headers: headersOf(i) })).body.runtimeStatus === 'Running');
        await cancel(i, running.statusQueryGetUri);
        expect(await settle(i, running.statusQueryGetUri)).toMatchObject({ runtimeStatus: 'Terminated' });
      }),
    );
    // Every webhook went out: the terminated-while-pending ones and the delivered ones to this run's path.
    await receiver.waitForRequests(`/${run}`, 2 * count);
    // Everything expires: jobs after 1 s, the records they leave 2 s later.
    await waitFor(
      'every job and record to expire',
      async () => (await redis.client().keys('bull:*')).every((key) => !/[0-9a-f]{8}-[0-9a-f]{4}-|webhook-outbox/.test(key)),
      { timeoutMs: 20_000, intervalMs: 250 },
    );
  }

  /** The keys under the queue's prefix, each with its time to live (-1: none). */
  async function keyspace(): Promise<Map<string, number>> {
    const client = redis.client();
    const keys = (await client.keys('*')).sort();
    return new Map(await Promise.all(keys.map(async (key) => [key, await client.pttl(key)] as const)));
  }

  it('comes back to the same fixed, bounded set of keys whatever the number of jobs', async () => {
    await runLifecycles(3, 'small');
    const afterSmall = await keyspace();
    await runLifecycles(12, 'large');
    const afterLarge = await keyspace();

    // Keys that stay for good, the same after either run: BullMQ's metadata, events stream
    // and id counter of each queue (reports and webhook deliveries), the idempotency secret,
    // and the shard count of the deployment.
    const lasting = (keys: Map<string, number>) => [...keys].filter(([, ttl]) => ttl === -1).map(([key]) => key);
    expect(lasting(afterSmall)).toEqual([
      'bull:report-webhooks:events',
      'bull:report-webhooks:id',
      'bull:report-webhooks:meta',
      'bull:reports:events',
      'bull:reports:id',
      'bull:reports:meta',
      'bull:reports:rj:secret',
      'bull:reports:rj:shards',
    ]);
    expect(lasting(afterLarge)).toEqual(lasting(afterSmall));
    // Every other key expires by itself and comes from a fixed family: BullMQ's stalled-check
    // marker, the sweep lease, and each tenant's rate-limit counts of the current minute windows.
    for (const [key, ttl] of [...afterSmall, ...afterLarge]) {
      if (ttl === -1) continue;
      expect(key).toMatch(/^bull:(reports:(stalled-check|rj:sweep-lease|rj:rate:(submit|read):tenant-[ab]:\d{13})|report-webhooks:stalled-check)$/);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    // No index, per-tenant index, finished set, record, outbox entry or delivery is left.
    expect([...afterLarge.keys()].filter((key) => /rj:(index|gone|webhook-outbox)|completed|failed|wait|delayed/.test(key))).toEqual([]);

    // The events stream is bounded by its max length (trimmed approximately, by whole
    // nodes of 100 entries), though the runs wrote far more events than that.
    expect(await redis.client().hget('bull:reports:meta', 'opts.maxLenEvents')).toBe(String(MAX_EVENTS));
    const stream = (await redis.client().call('XINFO', 'STREAM', 'bull:reports:events')) as unknown[];
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < stream.length; i += 2) info.set(String(stream[i]), stream[i + 1]);
    expect(Number(info.get('entries-added'))).toBeGreaterThan(5 * MAX_EVENTS);
    expect(Number(info.get('length'))).toBeLessThan(MAX_EVENTS + 100);
  });
});
