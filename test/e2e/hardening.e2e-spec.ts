import { startApi, startWorker, type AppProcess } from '../support/apps';
import { fetchApi, postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// Security headers, CORS, and a graceful API shutdown that finishes in-flight requests.
describe('hardening', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  describe('headers and CORS', () => {
    let api: AppProcess;
    let withCors: AppProcess;

    beforeAll(async () => {
      [api, withCors] = await Promise.all([
        startApi(redis.url),
        startApi(redis.url, { CORS_ORIGINS: 'https://app.example.com' }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([api?.stop(), withCors?.stop()]);
    });

    it('sends security headers on every answer, errors included', async () => {
      for (const url of [`${api.url}/health/live`, `${api.url}/api/jobs/reports/not-a-uuid`, `${api.url}/nowhere`]) {
        const answer = await fetchApi(url);
        expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
        expect(answer.headers.get('x-frame-options')).toBe('DENY');
        expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'");
        expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
      }
    });

    it('answers no CORS headers unless CORS_ORIGINS is set', async () => {
      const preflight = (base: string) =>
        fetchApi(`${base}/api/jobs/reports`, {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
        });
      expect((await preflight(api.url)).headers.get('access-control-allow-origin')).toBeNull();
      const allowed = await preflight(withCors.url);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const other = await fetchApi(`${withCors.url}/health/live`, { headers: { origin: 'https://evil.example.org' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const simple = await fetchApi(`${withCors.url}/health/live`, { headers: { origin: 'https://app.example.com' } });
      expect(simple.headers.get('access-control-expose-headers')).toContain('Location');
    });
  });

  describe('API shutdown', () => {
    it('answers in-flight requests on SIGTERM, cutting Prefer: wait short, then exits 0', async () => {
      const api = await startApi(redis.url);
      // A pending job (no worker runs) and a status read that waits on it.
      const job = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'c', delay_seconds: 0 });
      const started = Date.now();
      const inFlight = request(job.body.statusQueryGetUri as string, {
        headers: { prefer: 'wait=20' },
        signal: AbortSignal.timeout(8000),
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const exited = api.stop('SIGTERM');
      const answer = await inFlight;
      expect(answer.status).toBe(202);
      expect(answer.body.runtimeStatus).toBe('Pending');
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await exited).toBe(0);
      // The shutdown did not sit out the 20 s wait.
      expect(Date.now() - started).toBeLessThan(10_000);
      await expect(fetch(`${api.url}/health/live`)).rejects.toThrow();
    });

    it('lets a worker started later run what the stopped API accepted', async () => {
      const api = await startApi(redis.url);
      const job = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'c', delay_seconds: 0 });
      const worker = await startWorker(redis.url);
      try {
        await waitFor('the job to complete', async () => (await request(job.body.statusQueryGetUri as string)).status === 200);
      } finally {
        await Promise.all([api.stop(), worker.stop()]);
      }
    });
  });
});
