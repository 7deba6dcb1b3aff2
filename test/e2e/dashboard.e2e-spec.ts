import type { HTTPResponse } from 'puppeteer-core';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { launchBrowser, type TestBrowser } from '../support/browser';
import { pollUntilDone, postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

const ADMIN = { principal: 'ops', key: 'ops-admin-key-0001' };
const CLIENT = { principal: 'tenant', key: 'tenant-client-key-01' };
const KEYS = { API_KEYS: `${CLIENT.principal}:${CLIENT.key}`, ADMIN_API_KEYS: `${ADMIN.principal}:${ADMIN.key}`, ALLOW_ANONYMOUS: 'false' };
/** Page-side expressions (the tests compile without the DOM's types). */
const BODY_TEXT = "document.body ? document.body.innerText : ''";
const shows = (text: string) => `(${BODY_TEXT}).includes(${JSON.stringify(text)})`;
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

// Bull Board at /admin/queues, as a person meets it: in a real browser, behind HTTP Basic.
describe('queue dashboard', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let browser: TestBrowser;
  let failedJobId: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    [api, worker, browser] = await Promise.all([
      startApi(redis.url, { ...KEYS, JOB_ATTEMPTS: '1' }),
      startWorker(redis.url, { SIMULATED_FAILURES: 'cust-broken=*' }),
      launchBrowser(),
    ]);
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-broken', delay_seconds: 0 }, { authorization: `Bearer ${CLIENT.key}` });
    failedJobId = accepted.body.instanceId as string;
    const done = (await pollUntilDone(accepted.body.statusQueryGetUri as string, { headers: { authorization: `Bearer ${CLIENT.key}` } })).at(-1)!;
    expect(done.body.runtimeStatus).toBe('Failed');
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  /** Opens the dashboard in a fresh browser context, answering the Basic prompt with `credentials`. */
  async function openDashboard(path: string, credentials?: { username: string; password: string }) {
    const context = await browser.browser.createBrowserContext();
    const page = await context.newPage();
    const responses: HTTPResponse[] = [];
    page.on('response', (response) => responses.push(response));
    const consoleErrors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    if (credentials) await page.authenticate(credentials);
    // Without credentials to offer, headless Chromium gives up at the Basic prompt (a person
    // would see the prompt, then the 401 page): the navigation then fails after the 401.
    const response = await page.goto(`${api.url}${path}`, { waitUntil: 'load' }).catch((error: Error) => {
      if (credentials || !error.message.includes('ERR_INVALID_AUTH_CREDENTIALS')) throw error;
      return responses.find((seen) => seen.request().isNavigationRequest()) ?? null;
    });
    return { context, page, response, responses, consoleErrors };
  }

  it('shows an admin the queue and the error of a failed job', async () => {
    const { context, page, responses, consoleErrors } = await openDashboard('/admin/queues/queue/reports?status=failed', {
      username: ADMIN.principal,
      password: ADMIN.key,
    });
    try {
      await page.waitForFunction(shows(failedJobId), { timeout: 15_000 });
      await page.waitForFunction(shows('Simulated failure of attempt 1 for cust-broken'), { timeout: 15_000 });
      // Both queues: the report jobs, and the webhook deliveries waiting or between retries.
      await page.waitForFunction(shows('report-webhooks'), { timeout: 15_000 });
      expect(await page.evaluate(BODY_TEXT)).toContain('reports');
      const boardApi = responses.filter((response) => response.url().includes('/admin/queues/api/'));
      expect(boardApi.length).toBeGreaterThan(0);
      expect(boardApi.every((response) => response.status() === 200)).toBe(true);
      // The board's scripts ran under the API's content security policy.
      expect(consoleErrors.filter((error) => /Content Security Policy/i.test(error) && /script/i.test(error))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it.each([
    ['without credentials', undefined],
    ['with a client key', { username: CLIENT.principal, password: CLIENT.key }],
    ['with an admin key under another principal name', { username: CLIENT.principal, password: ADMIN.key }],
  ])('shows no queue data %s', async (_what, credentials) => {
    const { context, page, response, responses } = await openDashboard('/admin/queues/queue/reports?status=failed', credentials);
    try {
      expect(response?.status()).toBe(401);
      const text = await page.evaluate(BODY_TEXT);
      expect(text).not.toContain(failedJobId);
      expect(text).not.toContain('Simulated failure');
      const answered = responses.filter((response) => response.url().includes('/admin/queues/api/') && response.status() !== 401);
      expect(answered).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('refuses the board API to non-admins, as problem+json asking for Basic credentials', async () => {
    for (const headers of [{}, basic(CLIENT.principal, CLIENT.key), { authorization: `Bearer ${ADMIN.key}` }]) {
      const answer = await request(`${api.url}/admin/queues/api/queues`, { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(JSON.stringify(answer.body)).not.toContain(failedJobId);
    }
  });

  it('is read-only unless DASHBOARD_ACTIONS=true', async () => {
    const retry = (base: string) =>
      request(`${base}/admin/queues/api/queues/reports/${failedJobId}/retry`, { method: 'PUT', headers: basic(ADMIN.principal, ADMIN.key) });
    await worker.settledLogLines();
    const attemptsStarted = () => worker.logLines().filter((line) => line.instanceId === failedJobId && line.msg === 'Attempt started').length;
    expect(attemptsStarted()).toBe(1);
    const refused = await retry(api.url);
    expect(refused.status).toBe(405);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const status = await request(`${api.url}/api/jobs/reports/${failedJobId}`, { headers: { authorization: `Bearer ${ADMIN.key}` } });
    expect(status.body.runtimeStatus).toBe('Failed');

    const withActions = await startApi(redis.url, { ...KEYS, DASHBOARD_ACTIONS: 'true' });
    try {
      expect((await retry(withActions.url)).status).toBe(204);
      // Retried, the job runs again (and fails again: every attempt of cust-broken does).
      await waitFor('the retried job to run again', async () => attemptsStarted() === 2);
    } finally {
      await withActions.stop();
    }
  });

  it('counts wrong dashboard credentials against the address’s budget of failed authentications', async () => {
    // A Redis of its own (last in the file: with REDIS_URL set, starting one flushes the shared
    // database): failures are counted across replicas, and the tests above failed some.
    const ownRedis = await startTestRedis();
    const throttled = await startApi(ownRedis.url, { ...KEYS, AUTH_FAILURES_PER_MINUTE: '3' });
    try {
      const board = `${throttled.url}/admin/queues/api/queues`;
      // Asking without credentials guesses nothing: a browser's first request is not counted.
      for (let i = 0; i < 5; i++) expect((await request(board)).status).toBe(401);
      for (const wrong of [basic(ADMIN.principal, 'not-the-admin-key'), basic(CLIENT.principal, CLIENT.key), basic('nobody', ADMIN.key)]) {
        expect((await request(board, { headers: wrong })).status).toBe(401);
      }
      // Guessing is over for this address, through the dashboard and the API alike, right key or not.
      for (const answer of [
        await request(board, { headers: basic(ADMIN.principal, ADMIN.key) }),
        await request(`${throttled.url}/api/jobs/reports`, { headers: { authorization: `Bearer ${ADMIN.key}` } }),
      ]) {
        expect(answer.status).toBe(429);
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      // The API writes its log asynchronously: wait for the lines, then check there are no more.
      const logged = () => throttled.logLines().filter((line) => line.msg === 'Authentication failed');
      const failures = await waitFor('the failed authentications to be logged', async () => logged().length >= 3 && logged());
      expect(failures).toHaveLength(3);
      expect(JSON.stringify(throttled.logLines())).not.toContain('not-the-admin-key');
    } finally {
      await throttled.stop();
      await ownRedis.close();
    }
  });
});
