import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';
import { API_MAIN, startApi, startWorker, type AppProcess } from '../support/apps';
import { fetchApi, pollUntilDone, postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

const KEYS = { a: 'key-of-tenant-a-123', b: 'key-of-tenant-b-456', admin: 'key-of-the-ops-789' };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

// API keys, tenant isolation and rate limits, against the real API and Redis.
describe('API keys and tenants', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    const keyFile = join(mkdtempSync(join(tmpdir(), 'report-jobs-keys-')), 'keys');
    writeFileSync(keyFile, `# tenant b's key lives in a file\ntenant-b:${KEYS.b}\n`);
    [api, worker] = await Promise.all([
      startApi(redis.url, {
        ALLOW_ANONYMOUS: 'false',
        API_KEYS: `tenant-a:${KEYS.a}`,
        API_KEYS_FILE: keyFile,
        ADMIN_API_KEYS: `ops:${KEYS.admin}`,
        RATE_LIMIT_SUBMITS_PER_MINUTE: '5',
      }),
      startWorker(redis.url),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  const reports = () => `${api.url}/api/jobs/reports`;

  it('refuses requests without a key, or with a wrong or malformed one (401 problem)', async () => {
    for (const headers of [{}, bearer('not-a-key-at-all'), { 'x-api-key': 'wrong-key-000' }, { authorization: `Basic ${KEYS.a}` }]) {
      const answer = await request(`${reports()}/6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00`, { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await postJson(reports(), { customer_id: 'c' })).status).toBe(401);
    expect((await request(reports())).status).toBe(401);
  });

  it('accepts a key as a Bearer token or as X-API-Key, and one read from API_KEYS_FILE', async () => {
    expect((await postJson(reports(), { customer_id: 'c', delay_seconds: 0 }, bearer(KEYS.a))).status).toBe(202);
    expect((await postJson(reports(), { customer_id: 'c', delay_seconds: 0 }, { 'x-api-key': KEYS.a })).status).toBe(202);
    expect((await postJson(reports(), { customer_id: 'c', delay_seconds: 0 }, bearer(KEYS.b))).status).toBe(202);
  });

  it('keeps health probes and the API docs open', async () => {
    expect((await request(`${api.url}/health/live`)).status).toBe(200);
    expect((await request(`${api.url}/health/ready`)).status).toBe(200);
    expect((await fetchApi(`${api.url}/docs-json`)).status).toBe(200);
  });

  it('hides a job from other tenants on every endpoint, and shows it to admins', async () => {
    const job = await postJson(reports(), { customer_id: 'tenant-a-cust', delay_seconds: 0 }, bearer(KEYS.a));
    const statusUrl = job.body.statusQueryGetUri as string;
    await pollUntilDone(statusUrl, { headers: bearer(KEYS.a) });
    const own = await request(statusUrl, { headers: bearer(KEYS.a) });
    expect(own.status).toBe(200);

    const asB = bearer(KEYS.b);
    const hidden = [
      await request(statusUrl, { headers: asB }),
      await request(`${statusUrl}/terminate`, { method: 'POST', headers: asB }),
      await request(statusUrl, { method: 'DELETE', headers: asB }),
      await request(`${statusUrl}/history`, { method: 'DELETE', headers: asB }),
    ];
    expect(hidden.map((answer) => answer.status)).toEqual([404, 404, 404, 404]);
    // The same answer as for an id that never existed: existence is not revealed.
    const never = await request(`${reports()}/6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00`, { headers: asB });
    expect(hidden[0].body.title).toBe(never.body.title);

    const listedForB = await request<{ items: Array<{ instanceId: string }> }>(`${reports()}?top=200`, { headers: asB });
    expect(listedForB.body.items.map((item) => item.instanceId)).not.toContain(job.body.instanceId);
    const listedForA = await request<{ items: Array<{ instanceId: string }> }>(`${reports()}?top=200`, { headers: bearer(KEYS.a) });
    expect(listedForA.body.items.map((item) => item.instanceId)).toContain(job.body.instanceId);

    const asAdmin = bearer(KEYS.admin);
    expect((await request(statusUrl, { headers: asAdmin })).status).toBe(200);
    const listedForAdmin = await request<{ items: Array<{ instanceId: string }> }>(`${reports()}?top=200`, { headers: asAdmin });
    expect(listedForAdmin.body.items.map((item) => item.instanceId)).toContain(job.body.instanceId);
    // Purging as another tenant did nothing; the owner still can.
    expect((await request(`${statusUrl}/history`, { method: 'DELETE', headers: bearer(KEYS.a) })).status).toBe(200);
  });

  it('keeps idempotency keys per tenant', async () => {
    const body = { customer_id: 'shared', delay_seconds: 0 };
    const a = await postJson(reports(), body, { ...bearer(KEYS.a), 'idempotency-key': 'same-key' });
    const b = await postJson(reports(), body, { ...bearer(KEYS.b), 'idempotency-key': 'same-key' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.body.instanceId).not.toBe(b.body.instanceId);
  });

  it('limits submissions per tenant with 429 and Retry-After, leaving reads and other tenants alone', async () => {
    const asAdmin = bearer(KEYS.admin);
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await postJson(reports(), { customer_id: 'burst', delay_seconds: 0 }, asAdmin));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(5);
    const limited = answers.find((answer) => answer.status === 429)!;
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Reads have their own budget.
    expect((await request(answers[0].body.statusQueryGetUri as string, { headers: asAdmin })).status).not.toBe(429);
  });

  it('never writes a key into the logs', async () => {
    const everything = JSON.stringify(await api.settledLogLines());
    for (const key of Object.values(KEYS)) expect(everything).not.toContain(key);
  });
});

describe('refusing to start without keys', () => {
  const boot = async (env: Record<string, string>) => {
    const port = String(await freePort());
    return new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [API_MAIN], {
        env: { PATH: process.env.PATH ?? '', REDIS_URL: 'redis://127.0.0.1:1', PORT: port, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk) => (output += chunk));
      child.stderr!.on('data', (chunk) => (output += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  };

  it.each(['production', 'development'])('exits with a message when NODE_ENV=%s has neither keys nor ALLOW_ANONYMOUS', async (nodeEnv) => {
    const { code, output } = await boot({ NODE_ENV: nodeEnv });
    expect(code).toBe(1);
    expect(output).toContain('No API keys configured');
  });

  it('names a malformed API_KEYS without printing it', async () => {
    const { code, output } = await boot({ API_KEYS: 'tenant-a:short' });
    expect(code).toBe(1);
    expect(output).toContain('API_KEYS=(hidden)');
    expect(output).not.toContain('short');
  });
});

describe('rate limits across API replicas', () => {
  let redis: TestRedis;
  let replicas: AppProcess[];

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = { ALLOW_ANONYMOUS: 'false', API_KEYS: `tenant-a:${KEYS.a}`, RATE_LIMIT_SUBMITS_PER_MINUTE: '6' };
    replicas = await Promise.all([startApi(redis.url, env), startApi(redis.url, env)]);
  });
  afterAll(async () => {
    await Promise.all((replicas ?? []).map((replica) => replica.stop()));
    await redis?.close();
  });

  it('shares one budget between replicas', async () => {
    const submit = async (replica: AppProcess) =>
      (await postJson(`${replica.url}/api/jobs/reports`, { customer_id: 'shared-budget', delay_seconds: 0 }, bearer(KEYS.a))).status;
    const first: number[] = [];
    for (let i = 0; i < 4; i++) first.push(await submit(replicas[0]));
    expect(first).toEqual([202, 202, 202, 202]);
    // Once the first replica has shared its counts in Redis, spend the rest on the second one.
    await waitFor('the first replica to share its four submissions', async () => {
      const keys = await redis.client().keys('*rj:rate:submit:tenant-a:*');
      const counts = await Promise.all(keys.map((key) => redis.client().get(key)));
      return counts.reduce((sum, count) => sum + Number(count ?? 0), 0) === 4;
    });
    const second: number[] = [];
    for (let i = 0; i < 4; i++) second.push(await submit(replicas[1]));
    // A replica alone would accept all four; sharing leaves two (one more at most, when
    // its first sync is still under way: the documented overshoot).
    const accepted = second.filter((status) => status === 202).length;
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(accepted).toBeLessThanOrEqual(3);
    expect(second.at(-1)).toBe(429);
  });
});

describe('failed authentication', () => {
  const BUDGET = 5;
  const GUESSES = Array.from({ length: 12 }, (_, i) => `guessed-key-${String(i).padStart(4, '0')}-xyz`);
  let redis: TestRedis;
  let replicas: AppProcess[];

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = { ALLOW_ANONYMOUS: 'false', API_KEYS: `tenant-a:${KEYS.a}`, AUTH_FAILURES_PER_MINUTE: String(BUDGET) };
    replicas = await Promise.all([startApi(redis.url, env), startApi(redis.url, env)]);
  });
  afterAll(async () => {
    await Promise.all((replicas ?? []).map((replica) => replica.stop()));
    await redis?.close();
  });

  const status = (replica: AppProcess, headers: Record<string, string>) => request(`${replica.url}/api/jobs/reports?top=1`, { headers });

  it('answers 401 up to the budget, then 429 with Retry-After to that address whatever it sends, on every replica', async () => {
    // The budget is per minute: start well inside a minute, so the window cannot turn mid-test.
    await waitFor('the start of a rate window', async () => Date.now() % 60_000 < 40_000, { timeoutMs: 25_000, intervalMs: 250 });
    const [first, second] = replicas;

    const refused = [];
    for (const [i, guess] of GUESSES.slice(0, BUDGET).entries()) {
      // Wrong keys in both headers, and a malformed Authorization header: all count.
      const headers = i === 0 ? { authorization: `Basic ${guess}` } : i % 2 ? bearer(guess) : { 'x-api-key': guess };
      refused.push(await status(first, headers));
    }
    expect(refused.map((answer) => answer.status)).toEqual(Array(BUDGET).fill(401));

    const over = await status(first, bearer(GUESSES[BUDGET]));
    expect(over.status).toBe(429);
    expect(over.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // A right key no longer gets through either: a guess that hits must look like one that misses.
    expect((await status(first, bearer(KEYS.a))).status).toBe(429);
    expect((await status(first, {})).status).toBe(429);
    // Health probes are not behind authentication.
    expect((await request(`${first.url}/health/ready`)).status).toBe(200);

    // The other replica shares the count once the first has added its own to Redis (every
    // 100 ms). Its first guess fetches that count (one more guess may get through, the
    // documented overshoot); from then on it refuses too.
    const shared = async () => {
      const keys = await redis.client().keys('bull:reports:rj:rate:auth-failures:*');
      const counts = await Promise.all(keys.map((key) => redis.client().get(key)));
      return counts.reduce((sum, count) => sum + Number(count), 0);
    };
    await waitFor('the first replica to share its failures', async () => (await shared()) >= BUDGET);
    expect([401, 429]).toContain((await status(second, bearer(GUESSES[BUDGET + 1]))).status);
    await waitFor('the second replica to refuse the address', async () => (await status(second, bearer(KEYS.a))).status === 429);
    expect((await status(second, bearer(GUESSES[BUDGET + 2]))).status).toBe(429);

    // Every failure is logged at warn with the address and request id; no key is ever logged.
    await second.settledLogLines();
    const failures = (await first.settledLogLines()).filter((line) => line.msg === 'Authentication failed');
    expect(failures).toHaveLength(BUDGET);
    for (const [i, line] of failures.entries()) {
      expect(line).toMatchObject({ level: 40, address: '127.0.0.1', requestId: refused[i].headers.get('x-request-id') });
    }
    const everything = JSON.stringify([...first.logLines(), ...second.logLines()]);
    for (const key of [...GUESSES, KEYS.a]) expect(everything).not.toContain(key);
  });
});
