import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { pollUntilDone, postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';
import { WebhookReceiver, type ReceivedWebhook } from '../support/webhook-receiver';

// Webhooks end to end: the real API and worker, a real Redis, and a receiver that checks
// every delivery with an independent Standard Webhooks implementation (the standardwebhooks
// package), never with the service's own signing code.

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const verifier = new Webhook(secret);

/** Checks a delivery's signature and answers its parsed body. */
const verified = (delivery: ReceivedWebhook) => verifier.verify(delivery.body, delivery.headers) as Record<string, unknown>;

/** Settings that let deliveries reach the local receiver, with a fast retry schedule: 4 attempts. */
const LOCAL_WEBHOOKS = {
  WEBHOOK_SECRETS: `anonymous:${secret}`,
  WEBHOOK_ALLOW_INSECURE: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
};
const FAST_RETRIES = { WEBHOOK_RETRY_SCHEDULE_MS: '300,300,300', WEBHOOK_TIMEOUT_SECONDS: '1' };

async function callbackOf(statusUrl: string): Promise<Record<string, unknown> | undefined> {
  return (await request(statusUrl)).body.callback as Record<string, unknown> | undefined;
}

/** Waits until the job's callback reaches `state`, and answers the callback status. */
function callbackReaches(statusUrl: string, state: string): Promise<Record<string, unknown>> {
  return waitFor(`the callback to be ${state}`, async () => {
    const callback = await callbackOf(statusUrl);
    return callback?.state === state && callback;
  });
}

describe('webhooks', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let receiver: WebhookReceiver;
  let tlsReceiver: WebhookReceiver;
  let tlsDir: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    // A certificate for localhost, trusted by the worker only through NODE_EXTRA_CA_CERTS.
    tlsDir = mkdtempSync(join(tmpdir(), 'report-jobs-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(tlsDir, 'key.pem'), '-out', join(tlsDir, 'cert.pem'),
    ], { stdio: 'ignore' });
    [receiver, tlsReceiver] = await Promise.all([
      WebhookReceiver.start(),
      WebhookReceiver.start({ key: readFileSync(join(tlsDir, 'key.pem'), 'utf8'), cert: readFileSync(join(tlsDir, 'cert.pem'), 'utf8'), host: 'localhost' }),
    ]);
    [api, worker] = await Promise.all([
      startApi(redis.url, { ...LOCAL_WEBHOOKS, JOB_ATTEMPTS: '1' }),
      startWorker(redis.url, {
        ...LOCAL_WEBHOOKS,
        ...FAST_RETRIES,
        SIMULATED_FAILURES: 'cust-broken=*',
        NODE_EXTRA_CA_CERTS: join(tlsDir, 'cert.pem'),
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await Promise.all([receiver?.close(), tlsReceiver?.close()]);
    await redis?.close();
    if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
  });

  const submit = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-hook', delay_seconds: 0, ...body }, headers);

  it('POSTs the final status payload of a completed job, signed, and shows it delivered', async () => {
    const accepted = await submit({ delay_seconds: 1, callback_url: receiver.url('/completed') });
    expect(accepted.status).toBe(202);
    const statusUrl = accepted.body.statusQueryGetUri as string;
    const instanceId = accepted.body.instanceId as string;
    expect(await callbackOf(statusUrl)).toEqual({ url: receiver.url('/completed'), state: 'pending', attempts: 0 });

    const [delivery] = await receiver.waitForRequests('/completed', 1);
    expect(delivery.method).toBe('POST');
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['webhook-id']).toMatch(/^msg_[\w-]+$/);
    expect(delivery.headers['webhook-timestamp']).toMatch(/^\d+$/);
    const event = verified(delivery);

    const final = (await pollUntilDone(statusUrl)).at(-1)!;
    expect(final.status).toBe(200);
    const callback = await callbackReaches(statusUrl, 'delivered');
    expect(callback).toEqual({ url: receiver.url('/completed'), state: 'delivered', attempts: 1, deliveredAt: expect.stringMatching(/Z$/) });
    // Exactly the status URL's final payload, but for the state of this very delivery.
    const statusPayload = { ...(await request(statusUrl)).body };
    delete statusPayload.callback;
    expect(event).toEqual({ type: 'report.completed', timestamp: expect.any(String), data: statusPayload });
    expect(event.data).toMatchObject({ instanceId, runtimeStatus: 'Completed', output: { status: 'completed', instanceId } });
    expect(Date.parse(event.timestamp as string)).toBeGreaterThanOrEqual(Date.parse(statusPayload.createdTime as string));
  });

  it('delivers over HTTPS, checking the receiver’s certificate against the URL’s host', async () => {
    const accepted = await submit({ callback_url: tlsReceiver.url('/tls') });
    const [delivery] = await tlsReceiver.waitForRequests('/tls', 1);
    expect(verified(delivery)).toMatchObject({ type: 'report.completed', data: { instanceId: accepted.body.instanceId } });
    await callbackReaches(accepted.body.statusQueryGetUri as string, 'delivered');
  });

  it('announces a job that failed for good as report.failed', async () => {
    const accepted = await submit({ customer_id: 'cust-broken', callback_url: receiver.url('/failed') });
    const [delivery] = await receiver.waitForRequests('/failed', 1);
    expect(verified(delivery)).toMatchObject({
      type: 'report.failed',
      data: { instanceId: accepted.body.instanceId, runtimeStatus: 'Failed', output: { status: 'failed' } },
    });
  });

  it('announces a running job terminated by its client as report.terminated', async () => {
    const accepted = await submit({ delay_seconds: 30, callback_url: receiver.url('/terminated-running') });
    const statusUrl = accepted.body.statusQueryGetUri as string;
    await waitFor('the job to run', async () => (await request(statusUrl)).body.runtimeStatus === 'Running');
    expect((await request(`${statusUrl}/terminate?reason=no%20longer%20needed`, { method: 'POST' })).status).toBe(202);
    const [delivery] = await receiver.waitForRequests('/terminated-running', 1);
    expect(verified(delivery)).toMatchObject({
      type: 'report.terminated',
      data: { runtimeStatus: 'Terminated', output: { status: 'terminated', reason: 'no longer needed' } },
    });
  });

  it('retries after 5xx answers with the same webhook-id, then records the delivery', async () => {
    receiver.answer('/flaky', { status: 500 }, { status: 503 }, { status: 204 });
    const accepted = await submit({ callback_url: receiver.url('/flaky') });
    const deliveries = await receiver.waitForRequests('/flaky', 3);
    const ids = new Set(deliveries.map((delivery) => delivery.headers['webhook-id']));
    expect(ids.size).toBe(1);
    // Every attempt is signed anew (its own timestamp) over the same body.
    for (const delivery of deliveries) expect(verified(delivery)).toEqual(verified(deliveries[0]));
    expect(new Set(deliveries.map((delivery) => delivery.body)).size).toBe(1);
    const callback = await callbackReaches(accepted.body.statusQueryGetUri as string, 'delivered');
    expect(callback).toMatchObject({ attempts: 3 });
    expect(callback).not.toHaveProperty('lastError');
  });

  it('retries an attempt that got no answer in time', async () => {
    receiver.answer('/slow', { holdMs: 3_000 }, { status: 200 });
    const accepted = await submit({ callback_url: receiver.url('/slow') });
    const deliveries = await receiver.waitForRequests('/slow', 2);
    expect(deliveries[1].headers['webhook-id']).toBe(deliveries[0].headers['webhook-id']);
    expect(await callbackReaches(accepted.body.statusQueryGetUri as string, 'delivered')).toMatchObject({ attempts: 2 });
  });

  it('gives up after the last attempt and says why', async () => {
    receiver.answer('/down', { status: 500 });
    const accepted = await submit({ callback_url: receiver.url('/down') });
    const callback = await callbackReaches(accepted.body.statusQueryGetUri as string, 'failed');
    expect(callback).toEqual({ url: receiver.url('/down'), state: 'failed', attempts: 4, lastError: 'answered 500' });
    expect(receiver.requestsTo('/down')).toHaveLength(4);
  });

  it('takes a redirect as a failure and never follows it', async () => {
    receiver.answer('/moved', { status: 302, headers: { location: receiver.url('/elsewhere') } });
    const accepted = await submit({ callback_url: receiver.url('/moved') });
    const callback = await callbackReaches(accepted.body.statusQueryGetUri as string, 'failed');
    expect(callback).toMatchObject({ attempts: 4, lastError: 'answered 302 (redirects are not followed)' });
    expect(receiver.requestsTo('/moved')).toHaveLength(4);
    expect(receiver.requestsTo('/elsewhere')).toHaveLength(0);
  });

  it('stops at a 410 Gone and says the callback is disabled', async () => {
    receiver.answer('/gone', { status: 410 });
    const accepted = await submit({ callback_url: receiver.url('/gone') });
    const callback = await callbackReaches(accepted.body.statusQueryGetUri as string, 'disabled');
    expect(callback).toMatchObject({ attempts: 1, lastError: 'answered 410 Gone: no more deliveries' });
    // The delivery has ended for good: nothing is left to retry it.
    const admin = redis.client();
    expect(await admin.keys(`bull:report-webhooks:${accepted.body.instanceId}*`)).toEqual([]);
    expect(await admin.zcard('bull:report-webhooks:delayed')).toBe(0);
    expect(receiver.requestsTo('/gone')).toHaveLength(1);
  });

  it('counts delivery attempts by outcome in the worker’s metrics', async () => {
    const text = await (await fetch(worker.metricsUrl)).text();
    const count = (outcome: string) => Number(new RegExp(`^report_jobs_webhook_attempts_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1]);
    expect(count('delivered')).toBeGreaterThanOrEqual(3);
    expect(count('retried')).toBeGreaterThanOrEqual(3);
    expect(count('failed')).toBeGreaterThanOrEqual(1);
    expect(count('disabled')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^report_jobs_webhook_queue_jobs\{state="delayed"\} \d+/m);
  });

  it('makes callback_url part of the idempotent request', async () => {
    const key = { 'idempotency-key': `hook-${randomBytes(4).toString('hex')}` };
    const first = await submit({ callback_url: receiver.url('/idem') }, key);
    const repeat = await submit({ callback_url: receiver.url('/idem') }, key);
    expect(repeat.status).toBe(202);
    expect(repeat.body.instanceId).toBe(first.body.instanceId);
    const other = await submit({ callback_url: receiver.url('/idem-other') }, key);
    expect(other.status).toBe(422);
    const without = await submit({}, key);
    expect(without.status).toBe(422);
    await receiver.waitForRequests('/idem', 1);
  });
});
