import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { postJson, request } from '../support/http';
import { describeWithOwnRedis, startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

// At least once: a delivery survives the death of the worker that ended the job before it
// could queue the delivery, the restart of the worker holding a delivery between retries,
// and a job terminated while queued, which no worker ends.

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const verifier = new Webhook(secret);
const WEBHOOKS = {
  WEBHOOK_SECRETS: `anonymous:${secret}`,
  WEBHOOK_ALLOW_INSECURE: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
};

describeWithOwnRedis('webhook delivery, at least once', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let receiver: WebhookReceiver;
  const workers: AppProcess[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    [api, receiver] = await Promise.all([startApi(redis.url, WEBHOOKS), WebhookReceiver.start()]);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop('SIGKILL')));
  });
  afterAll(async () => {
    await api?.stop();
    await receiver?.close();
    await redis?.close();
  });

  const submit = (body: Record<string, unknown>) =>
    postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-durable', delay_seconds: 0, ...body });
  const callbackOf = async (statusUrl: string) => (await request(statusUrl)).body.callback as Record<string, unknown>;
  const worker = async (env: Record<string, string> = {}, redisUrl = redis.url) => {
    const started = await startWorker(redisUrl, { ...WEBHOOKS, ...env });
    workers.push(started);
    return started;
  };

  it('delivers for a job whose worker died after ending it and before queueing its delivery', async () => {
    // This worker may touch the reports queue's keys only: it runs and ends the job, but
    // Redis refuses it the delivery queue, so it cannot queue the delivery; then it dies.
    const admin = redis.client();
    await admin.call('ACL', 'SETUSER', 'reports-only', 'on', '>reports-only-pw', '~bull:reports:*', '&*', '+@all');
    const crippled = await worker({}, redis.url.replace('redis://', 'redis://reports-only:reports-only-pw@'));

    const accepted = await submit({ callback_url: receiver.url('/after-crash') });
    const statusUrl = accepted.body.statusQueryGetUri as string;
    const instanceId = accepted.body.instanceId as string;
    await waitFor('the job to complete', async () => (await request(statusUrl)).body.runtimeStatus === 'Completed');
    await waitFor('the worker to fail to queue the delivery', async () =>
      crippled.logLines().some((line) => line.instanceId === instanceId && String(line.msg).startsWith('Could not queue the webhook yet')),
    );
    expect(await callbackOf(statusUrl)).toMatchObject({ state: 'pending', attempts: 0 });
    await crippled.stop('SIGKILL');
    expect(receiver.requestsTo('/after-crash')).toHaveLength(0);

    await worker();
    const [delivery] = await receiver.waitForRequests('/after-crash', 1);
    expect(verifier.verify(delivery.body, delivery.headers)).toMatchObject({
      type: 'report.completed',
      data: { instanceId, runtimeStatus: 'Completed' },
    });
    await waitFor('the delivery to be recorded', async () => (await callbackOf(statusUrl)).state === 'delivered');
  });

  it('delivers after a restart of the worker that holds a delivery between retries', async () => {
    receiver.answer('/restart', { status: 503 }, { status: 204 });
    // A retry delay long enough to stop the worker in between (3 s, with ±10 % jitter).
    const first = await worker({ WEBHOOK_RETRY_SCHEDULE_MS: '3000' });
    const accepted = await submit({ callback_url: receiver.url('/restart') });
    const statusUrl = accepted.body.statusQueryGetUri as string;
    const [failed] = await receiver.waitForRequests('/restart', 1);
    expect(await first.stop('SIGTERM')).toBe(0);
    const pending = await waitFor('the failed attempt to be recorded', async () => {
      const callback = await callbackOf(statusUrl);
      return callback.attempts === 1 && callback;
    });
    expect(pending).toMatchObject({ state: 'pending', lastError: 'answered 503', nextAttemptTime: expect.any(String) });
    expect(receiver.requestsTo('/restart')).toHaveLength(1);

    await worker({ WEBHOOK_RETRY_SCHEDULE_MS: '3000' });
    const [, retried] = await receiver.waitForRequests('/restart', 2);
    expect(retried.headers['webhook-id']).toBe(failed.headers['webhook-id']);
    expect(verifier.verify(retried.body, retried.headers)).toMatchObject({ type: 'report.completed' });
    expect(await waitFor('the delivery', async () => {
      const callback = await callbackOf(statusUrl);
      return callback.state === 'delivered' && callback;
    })).toMatchObject({ attempts: 2 });
  });

  it('delivers for a job terminated while queued, which no worker ends', async () => {
    // No worker runs: the job waits, and the cancel ends it in the API's atomic script.
    const accepted = await submit({ callback_url: receiver.url('/terminated-queued') });
    const statusUrl = accepted.body.statusQueryGetUri as string;
    const cancelled = await request(`${statusUrl}/terminate?reason=changed%20my%20mind`, { method: 'POST' });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ runtimeStatus: 'Terminated', callback: { state: 'pending', attempts: 0 } });

    await worker();
    const [delivery] = await receiver.waitForRequests('/terminated-queued', 1);
    expect(verifier.verify(delivery.body, delivery.headers)).toMatchObject({
      type: 'report.terminated',
      data: { instanceId: accepted.body.instanceId, runtimeStatus: 'Terminated', output: { reason: 'changed my mind' } },
    });
  });
});
