import { randomBytes } from 'node:crypto';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { TestDnsServer } from '../support/dns-server';
import { postJson, request, type JsonResponse } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

// Callback URLs must never reach into the service's own network: refused at submit when
// they name or resolve to a non-public address, and checked again at delivery against the
// address actually connected to, so a name that resolves publicly at submit and privately
// later (DNS rebinding) is refused then. These apps do not allow private networks.

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

describe('callback URLs and the network', () => {
  let redis: TestRedis;
  let dns: TestDnsServer;
  let receiver: WebhookReceiver;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    [redis, dns, receiver] = await Promise.all([startTestRedis(), TestDnsServer.start(), WebhookReceiver.start()]);
    const env = {
      API_KEYS: 'tenant-a:key-a-123456,tenant-b:key-b-123456',
      ALLOW_ANONYMOUS: 'false',
      WEBHOOK_SECRETS: `tenant-a:${secret()}`,
      WEBHOOK_ALLOW_INSECURE: 'true',
      WEBHOOK_DNS_SERVERS: dns.address,
      RATE_LIMIT_SUBMITS_PER_MINUTE: '0',
    };
    [api, worker] = await Promise.all([startApi(redis.url, env), startWorker(redis.url, env)]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await Promise.all([receiver?.close(), dns?.close()]);
    await redis?.close();
  });

  const submit = (callbackUrl: string, key = 'key-a-123456') =>
    postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-ssrf', delay_seconds: 0, callback_url: callbackUrl }, { authorization: `Bearer ${key}` });

  const expectRefused = (answer: JsonResponse, why: RegExp) => {
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body.errors).toEqual([{ field: 'callback_url', message: expect.stringMatching(why) }]);
  };

  it.each([
    ['loopback', 'http://127.0.0.1:8080/hook', /127\.0\.0\.1 is a loopback address/],
    ['loopback IPv6', 'http://[::1]:8080/hook', /::1 is a loopback address/],
    ['private', 'https://10.0.0.7/hook', /10\.0\.0\.7 is a private address/],
    ['private', 'https://192.168.1.20/hook', /private address/],
    ['cloud metadata (link-local)', 'http://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is a linkLocal address/],
    ['carrier-grade NAT', 'https://100.64.1.1/hook', /carrierGradeNat address/],
    ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/hook', /ipv4Mapped address/],
    ['unspecified', 'https://0.0.0.0/hook', /unspecified address/],
  ])('refuses a %s address at submit: %s', async (_kind, url, why) => {
    expectRefused(await submit(url), why);
  });

  it('refuses a name that resolves to a private address at submit, telling the address to the log, not the client', async () => {
    dns.resolve('internal.example.test', '10.1.2.3');
    const answer = await submit('https://internal.example.test/hook');
    expectRefused(answer, /^callback_url internal\.example\.test resolves to an address that is not public/);
    // How the service's own network resolves names is an internal: not in the answer, in the log.
    expect(JSON.stringify(answer.body)).not.toContain('10.1.2.3');
    await waitFor('the refused address in the API log', async () =>
      api
        .logLines()
        .some((line) => line.address === '10.1.2.3' && line.range === 'private' && (line.req as { id?: string } | undefined)?.id === answer.headers.get('x-request-id')),
    );
  });

  it('refuses a name that does not resolve', async () => {
    expectRefused(await submit('https://nowhere.example.test/hook'), /nowhere\.example\.test does not resolve/);
  });

  it.each([
    ['a relative URL', '/hook', /must be an absolute URL/],
    ['another scheme', 'ftp://hooks.example.test/x', /must be an https or http URL/],
    ['credentials in the URL', 'https://user:pw@hooks.example.test/x', /must not carry a user name or password/],
    ['a fragment', 'https://hooks.example.test/x#frag', /must not have a fragment/],
    ['a port of another protocol', 'https://hooks.example.test:25/x', /must use port 80, 443 or 1024–65535/],
  ])('refuses %s', async (_what, url, why) => {
    expectRefused(await submit(url), why);
  });

  it('refuses a callback for a principal without a webhook secret, rather than send it unsigned', async () => {
    dns.resolve('public.example.test', '93.184.215.14');
    expectRefused(await submit('https://public.example.test/hook', 'key-b-123456'), /no webhook secret is configured/);
  });

  it('checks the address again at delivery: a name that turned private is refused, and nothing is sent', async () => {
    const port = new URL(receiver.baseUrl).port;
    // Public while the API checks it, then the receiver's loopback address.
    dns.resolve('rebind.example.test', '93.184.215.14', '127.0.0.1');
    const accepted = await submit(`http://rebind.example.test:${port}/rebind`);
    expect(accepted.status).toBe(202);
    const statusUrl = accepted.body.statusQueryGetUri as string;
    const callback = await waitFor('the delivery to be refused', async () => {
      const answer = await request(statusUrl, { headers: { authorization: 'Bearer key-a-123456' } });
      const state = answer.body.callback as Record<string, unknown> | undefined;
      return state?.state === 'failed' && state;
    });
    expect(callback).toMatchObject({
      attempts: 1,
      lastError: expect.stringMatching(/^refused: rebind\.example\.test resolves to an address that is not public/),
    });
    expect(callback.lastError).not.toContain('127.0.0.1');
    await waitFor('the refused address in the worker log', async () =>
      worker.logLines().some((line) => line.address === '127.0.0.1' && line.range === 'loopback' && line.instanceId === accepted.body.instanceId),
    );
    expect(dns.queries.get('rebind.example.test')).toBe(2);
    expect(receiver.received).toHaveLength(0);
  });
});
