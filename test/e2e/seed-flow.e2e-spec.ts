import { startApi, startWorker, type AppProcess } from '../support/apps';
import { fetchApi, pollUntilDone, postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';

// The seed's example, verbatim: POST → 202, poll → 202 Running, then 200 Completed.
describe('the seed flow', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    [api, worker] = await Promise.all([startApi(redis.url), startWorker(redis.url)]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  it('accepts the job, reports it Running, then Completed with the seed output', async () => {
    const seedRequest = { customer_id: 'cust-123', operation: 'rebuild-report', delay_seconds: 5 };
    const accepted = await postJson(`${api.url}/api/jobs/reports`, seedRequest, { 'x-request-id': 'seed-req-1' });

    expect(accepted.status).toBe(202);
    const instanceId = accepted.body.instanceId as string;
    expect(instanceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const statusUrl = `${api.url}/api/jobs/reports/${instanceId}`;
    expect(accepted.body).toEqual({
      status: 'accepted',
      instanceId,
      statusQueryGetUri: statusUrl,
      terminatePostUri: `${statusUrl}/terminate?reason={text}`,
      purgeHistoryDeleteUri: `${statusUrl}/history`,
    });
    expect(accepted.headers.get('location')).toBe(statusUrl);
    expect(accepted.headers.get('retry-after')).toBe('5');
    expect(accepted.headers.get('x-request-id')).toBe('seed-req-1');

    const answers = await pollUntilDone(statusUrl);
    const running = answers.filter((answer) => answer.body.runtimeStatus === 'Running');
    expect(running.length).toBeGreaterThan(0);
    for (const answer of answers.slice(0, -1)) {
      expect(answer.status).toBe(202);
      expect(answer.headers.get('location')).toBe(statusUrl);
      expect(answer.headers.get('retry-after')).toMatch(/^([1-9]|[12]\d|30)$/);
      expect(['Pending', 'Running']).toContain(answer.body.runtimeStatus);
    }
    // Progress is reported while the job runs.
    expect(running.some((answer) => (answer.body.customStatus as { progress: number } | null)?.progress)).toBe(true);

    const done = answers.at(-1)!;
    expect(done.status).toBe(200);
    expect(done.headers.get('retry-after')).toBeNull();
    expect(done.body).toMatchObject({
      name: 'report',
      instanceId,
      runtimeStatus: 'Completed',
      input: seedRequest,
      output: { status: 'completed', instanceId, result: { customerId: 'cust-123', operation: 'rebuild-report' } },
      attempt: 1,
    });
    expect(done.body.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(done.body.lastUpdatedTime as string)).toBeGreaterThanOrEqual(
      Date.parse(done.body.createdTime as string) + 4000,
    );
    expect(done.body).not.toHaveProperty('lastError');
  });

  it('applies the defaults for omitted fields', async () => {
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-9', delay_seconds: 0 });
    const done = (await pollUntilDone(accepted.body.statusQueryGetUri as string)).at(-1)!;
    expect(done.body.input).toEqual({ customer_id: 'cust-9', operation: 'rebuild-report', delay_seconds: 0 });
    expect(done.body.output).toEqual({
      status: 'completed',
      instanceId: accepted.body.instanceId,
      result: { customerId: 'cust-9', operation: 'rebuild-report' },
    });
  });

  it('carries the request id into every worker log line of the job', async () => {
    const accepted = await postJson(
      `${api.url}/api/jobs/reports`,
      { customer_id: 'cust-logs', delay_seconds: 0 },
      { 'x-request-id': 'trace-me-42' },
    );
    await pollUntilDone(accepted.body.statusQueryGetUri as string);
    const jobLines = (await worker.settledLogLines()).filter((line) => line.instanceId === accepted.body.instanceId);
    expect(jobLines.length).toBeGreaterThanOrEqual(2);
    for (const line of jobLines) {
      expect(line).toMatchObject({ correlationId: 'trace-me-42', customerId: 'cust-logs', app: 'worker' });
    }
    const requestLines = (await api.settledLogLines()).filter((line) => (line.req as { id?: string })?.id === 'trace-me-42');
    expect(requestLines.length).toBeGreaterThan(0);
  });

  it('builds URLs from PUBLIC_BASE_URL when set', async () => {
    const proxied = await startApi(redis.url, { PUBLIC_BASE_URL: 'https://reports.example.com/' });
    try {
      const accepted = await postJson(`${proxied.url}/api/jobs/reports`, { customer_id: 'cust-1', delay_seconds: 0 });
      const expected = `https://reports.example.com/api/jobs/reports/${accepted.body.instanceId}`;
      expect(accepted.body.statusQueryGetUri).toBe(expected);
      expect(accepted.headers.get('location')).toBe(expected);
    } finally {
      await proxied.stop();
    }
  });

  it('honours X-Forwarded-Proto/Host only when TRUST_PROXY is on', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'edge.example.com' };
    const untrusted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'cust-1', delay_seconds: 0 }, forwarded);
    expect(untrusted.body.statusQueryGetUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);

    const trusting = await startApi(redis.url, { TRUST_PROXY: 'true' });
    try {
      const trusted = await postJson(`${trusting.url}/api/jobs/reports`, { customer_id: 'cust-1', delay_seconds: 0 }, forwarded);
      expect(trusted.body.statusQueryGetUri).toBe(`https://edge.example.com/api/jobs/reports/${trusted.body.instanceId}`);
    } finally {
      await trusting.stop();
    }
  });

  it('serves Swagger UI and an OpenAPI document with every endpoint', async () => {
    const ui = await fetchApi(`${api.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
    const doc = await request<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(
      `${api.url}/docs-json`,
    );
    const paths = doc.body.paths;
    const post = paths['/api/jobs/reports'].post;
    const get = paths['/api/jobs/reports/{instanceId}'].get;
    expect(Object.keys(post.responses).sort()).toEqual(['200', '202', '400', '401', '413', '415', '422', '429', '500', '503']);
    expect(Object.keys(get.responses).sort()).toEqual(['200', '202', '400', '401', '404', '410', '414', '429', '500', '503']);
    expect(JSON.stringify(post.responses['202'])).toContain('Retry-After');
    expect(JSON.stringify(get.responses['202'])).toContain('Location');
    expect(JSON.stringify(post)).toContain('Idempotency-Key');
    expect(JSON.stringify(get)).toContain('Prefer');
    expect(Object.keys(paths['/api/jobs/reports'].get.responses)).toContain('200');
    const withAuth = (codes: string[]) => [...codes, '401', '429', '500'].sort();
    expect(Object.keys(paths['/api/jobs/reports/{instanceId}/terminate'].post.responses).sort()).toEqual(
      withAuth(['202', '400', '404', '410', '413', '414', '415', '503']),
    );
    expect(Object.keys(paths['/api/jobs/reports/{instanceId}'].delete.responses).sort()).toEqual(withAuth(['202', '400', '404', '410', '414', '503']));
    expect(Object.keys(paths['/api/jobs/reports/{instanceId}/history'].delete.responses).sort()).toEqual(
      withAuth(['200', '400', '404', '409', '410', '414', '503']),
    );
    // Swagger UI's Authorize button: both ways of sending a key are declared.
    expect(Object.keys((doc.body as unknown as { components: { securitySchemes: object } }).components.securitySchemes).sort()).toEqual(['api-key', 'bearer']);
  });
});
