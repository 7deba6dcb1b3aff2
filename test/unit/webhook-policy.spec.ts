import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateEnvironment, webhookRetryDelays, webhookSecrets } from '@report-jobs/config';
import {
  AddressRefusedError,
  CallbackResolver,
  isPublicAddress,
  nextAttemptDelayMs,
  parseCallbackUrl,
  retryAfterMs,
  sendWebhook,
  WebhookSendError,
} from '@report-jobs/webhooks';

describe('isPublicAddress', () => {
  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1111'])('allows public unicast %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
  it.each([
    '127.0.0.1', '::1', '10.0.0.1', '172.16.5.4', '192.168.0.1', '169.254.169.254', 'fe80::1', 'fd00:ec2::254',
    '100.64.0.1', '0.0.0.0', '::', '::ffff:10.0.0.1', '64:ff9b::a00:1', '2002:a00:1::1', '224.0.0.1', '255.255.255.255', 'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe('parseCallbackUrl', () => {
  const strict = { allowInsecure: false };
  it('normalizes an https URL', () => {
    expect(parseCallbackUrl('HTTPS://Hooks.Example.com:443/a/../b?x=1', strict).href).toBe('https://hooks.example.com/b?x=1');
  });
  it('takes http only when allowed', () => {
    expect(() => parseCallbackUrl('http://hooks.example.com/x', strict)).toThrow('must be an https URL');
    expect(parseCallbackUrl('http://hooks.example.com:8080/x', { allowInsecure: true }).port).toBe('8080');
  });
  it.each([
    ['https://hooks.example.com:22/x', 'must use port 80, 443 or 1024–65535'],
    ['https://hooks.example.com:1023/x', 'must use port 80, 443 or 1024–65535'],
    ['https://a@hooks.example.com/x', 'must not carry a user name or password'],
    ['https://hooks.example.com/x#', 'must not have a fragment'],
    ['hooks.example.com/x', 'must be an absolute URL'],
    [`https://hooks.example.com/${'x'.repeat(2048)}`, 'must be at most 2048 characters'],
  ])('refuses %s', (url, why) => {
    expect(() => parseCallbackUrl(url, strict)).toThrow(why);
  });
});

describe('the retry schedule', () => {
  const delays = [1_000, 10_000];
  it('waits the scheduled delay, moved by at most 10 % either way', () => {
    expect(nextAttemptDelayMs(delays, 1, undefined, () => 0)).toBe(900);
    expect(nextAttemptDelayMs(delays, 1, undefined, () => 1)).toBe(1_100);
    expect(nextAttemptDelayMs(delays, 2, undefined, () => 0.5)).toBe(10_000);
  });
  it('waits longer when the receiver’s Retry-After asks, up to a day', () => {
    expect(nextAttemptDelayMs(delays, 1, 60_000, () => 0.5)).toBe(60_000);
    expect(nextAttemptDelayMs(delays, 1, 500, () => 0.5)).toBe(1_000);
    expect(nextAttemptDelayMs(delays, 1, 10 * 86_400_000, () => 0.5)).toBe(86_400_000);
  });
  it('reads Retry-After in seconds or as a date', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Thu, 26 Nov 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
  it('is about a day long by default: Standard Webhooks’ steps, then 10 h more', () => {
    const total = webhookRetryDelays({ WEBHOOK_RETRY_SCHEDULE_MS: undefined }).reduce((sum, delay) => sum + delay, 0);
    expect(total).toBe(((27 * 60 + 35) * 60 + 5) * 1000);
  });
});

describe('webhook settings', () => {
  const secret = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;

  it('reads secrets per principal, several for a rotation', () => {
    const secrets = webhookSecrets(validateEnvironment({ WEBHOOK_SECRETS: `a:${secret(24)}, b:${secret(64)},a:${secret(32)}` }));
    expect([...secrets.keys()]).toEqual(['a', 'b']);
    expect(secrets.get('a')!.map((key) => key.length)).toEqual([24, 32]);
  });
  it('refuses secrets of the wrong size or form without echoing them', () => {
    const short = secret(16);
    expect(() => validateEnvironment({ WEBHOOK_SECRETS: `a:${short}` })).toThrow(/WEBHOOK_SECRETS gives a a secret that is not 24–64 bytes/);
    expect(() => validateEnvironment({ WEBHOOK_SECRETS: `a:${short}` })).not.toThrow(new RegExp(short.slice(6, 20).replace(/[+/]/g, '.')));
    expect(() => validateEnvironment({ WEBHOOK_SECRETS: 'a:s3cret' })).toThrow(/WEBHOOK_SECRETS=\(hidden\)/);
  });
  it('refuses a custom retry schedule in production, and one out of bounds', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production', WEBHOOK_RETRY_SCHEDULE_MS: '100' })).toThrow(/must not be set when NODE_ENV=production/);
    expect(() => validateEnvironment({ WEBHOOK_RETRY_SCHEDULE_MS: '86400001' })).toThrow(/at most a day each/);
    expect(() => validateEnvironment({ WEBHOOK_RETRY_SCHEDULE_MS: '1,x' })).toThrow(/WEBHOOK_RETRY_SCHEDULE_MS must look like/);
    expect(webhookRetryDelays(validateEnvironment({ WEBHOOK_RETRY_SCHEDULE_MS: '200, 400' }))).toEqual([200, 400]);
  });
  it('bounds the timeout and checks DNS servers', () => {
    expect(() => validateEnvironment({ WEBHOOK_TIMEOUT_SECONDS: '31' })).toThrow(/WEBHOOK_TIMEOUT_SECONDS/);
    expect(() => validateEnvironment({ WEBHOOK_DNS_SERVERS: '10.0.0.2:53,[::1]:5353,1.1.1.1' })).not.toThrow();
    expect(() => validateEnvironment({ WEBHOOK_DNS_SERVERS: 'dns.example.com' })).toThrow(/WEBHOOK_DNS_SERVERS: "dns.example.com"/);
  });
});

describe('sendWebhook', () => {
  let server: Server;
  let port: number;
  const hosts: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      hosts.push(request.headers.host ?? '');
      if (request.url === '/hang') return;
      response.writeHead(request.url === '/busy' ? 429 : 204, { 'retry-after': '7' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('connects to the checked address only, never resolving the name again', async () => {
    // The name exists nowhere: the request can only arrive through the address it was given.
    const url = new URL(`http://pinned.example.invalid:${port}/hook`);
    const answer = await sendWebhook({ url, addresses: [{ address: '127.0.0.1', family: 4 }], headers: {}, body: '{}', timeoutMs: 2_000 });
    expect(answer.status).toBe(204);
    expect(hosts.at(-1)).toBe(`pinned.example.invalid:${port}`);
  });

  it('answers the status and Retry-After', async () => {
    const url = new URL(`http://127.0.0.1:${port}/busy`);
    expect(await sendWebhook({ url, addresses: [{ address: '127.0.0.1', family: 4 }], headers: {}, body: '{}', timeoutMs: 2_000 })).toEqual({
      status: 429,
      retryAfterMs: 7_000,
    });
  });

  it('gives up when no answer comes in time', async () => {
    const url = new URL(`http://127.0.0.1:${port}/hang`);
    await expect(sendWebhook({ url, addresses: [{ address: '127.0.0.1', family: 4 }], headers: {}, body: '{}', timeoutMs: 200 })).rejects.toThrow(
      new WebhookSendError('no answer within 0.2 s'),
    );
  });

  it('refuses a host resolving to a private address, without showing the address but to the logs, unless allowed', async () => {
    const refusal = await new CallbackResolver({ allowPrivateNetworks: false }).addressesOf('localhost').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AddressRefusedError);
    const { message, address, range } = refusal as AddressRefusedError;
    expect(message).toBe('localhost resolves to an address that is not public; callbacks go to public addresses only');
    expect(message).not.toContain(address);
    expect({ address, range }).toEqual(expect.objectContaining({ address: expect.stringMatching(/^(127\.|::1$)/), range: 'loopback' }));
    expect(await new CallbackResolver({ allowPrivateNetworks: true }).addressesOf('127.0.0.1')).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });
});
