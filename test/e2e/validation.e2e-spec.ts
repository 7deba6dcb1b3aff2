import { startApi, type AppProcess } from '../support/apps';
import { postJson, request, type JsonResponse } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';

// Bad input of every kind gets a precise application/problem+json 4xx, never a 500,
// and nothing is queued for it.
describe('input validation', () => {
  let redis: TestRedis;
  let api: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    api = await startApi(redis.url, { BODY_LIMIT_BYTES: '1024' });
  });
  afterAll(async () => {
    await api?.stop();
    await redis?.close();
  });

  const reports = () => `${api.url}/api/jobs/reports`;

  function expectProblem(answer: JsonResponse, status: number) {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ type: 'about:blank', status, title: expect.any(String), detail: expect.any(String) });
    expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.(js|ts):\d+|node_modules|Error:/);
  }

  const fieldCases: Array<[string, unknown, string[]]> = [
    ['missing customer_id', { operation: 'rebuild-report' }, ['customer_id']],
    ['empty customer_id', { customer_id: '' }, ['customer_id']],
    ['customer_id of 129 characters', { customer_id: 'a'.repeat(129) }, ['customer_id']],
    ['customer_id with a space', { customer_id: 'cust 1' }, ['customer_id']],
    ['customer_id that is a number', { customer_id: 123 }, ['customer_id']],
    ['unknown operation', { customer_id: 'c', operation: 'drop-tables' }, ['operation']],
    ['delay_seconds as a string', { customer_id: 'c', delay_seconds: '5' }, ['delay_seconds']],
    ['negative delay_seconds', { customer_id: 'c', delay_seconds: -1 }, ['delay_seconds']],
    ['delay_seconds over an hour', { customer_id: 'c', delay_seconds: 3601 }, ['delay_seconds']],
    ['fractional delay_seconds', { customer_id: 'c', delay_seconds: 1.5 }, ['delay_seconds']],
    ['an unknown field', { customer_id: 'c', priority: 'high' }, ['priority']],
    ['several bad fields', { customer_id: '', delay_seconds: -1, extra: true }, ['customer_id', 'delay_seconds', 'extra']],
  ];

  it.each(fieldCases)('rejects %s with 400 naming the field', async (_name, body, fields) => {
    const answer = await postJson(reports(), body);
    expectProblem(answer, 400);
    const errors = answer.body.errors as Array<{ field: string; message: string }>;
    expect(errors.map((error) => error.field).sort()).toEqual([...fields].sort());
    for (const error of errors) expect(error.message).toEqual(expect.any(String));
  });

  it.each([
    ['malformed JSON', '{"customer_id":', 400],
    ['a JSON array', '[{"customer_id":"c"}]', 400],
    ['JSON null', 'null', 400],
    ['a JSON string', '"cust-1"', 400],
    ['an empty body', '', 400],
  ])('rejects %s with 400', async (_name, raw, status) => {
    expectProblem(await postJson(reports(), raw), status);
  });

  it('rejects a body over BODY_LIMIT_BYTES with 413', async () => {
    expectProblem(await postJson(reports(), { customer_id: 'c'.repeat(2000) }), 413);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
    'rejects Content-Type %s with 415',
    async (contentType) => {
      const answer = await request(reports(), {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: 'customer_id=c',
      });
      expectProblem(answer, 415);
    },
  );

  it('queues nothing for rejected requests', async () => {
    const keys = await redis.client().keys('bull:reports:*');
    // The queue's metadata, the deployment's shard count and the rate-limit counters exist; no job, list or set may.
    const bookkeeping = ['bull:reports:meta', 'bull:reports:rj:shards'];
    expect(keys.filter((key) => !bookkeeping.includes(key) && !key.startsWith('bull:reports:rj:rate:'))).toEqual([]);
  });

  it('answers 400 for an id that is not a UUID, and 404 for an unknown one', async () => {
    expectProblem(await request(`${reports()}/not-a-uuid`), 400);
    expectProblem(await request(`${reports()}/1`), 400);
    const unknown = await request(`${reports()}/6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00`);
    expectProblem(unknown, 404);
    expect(unknown.body.detail).toContain('6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00');
  });

  it('rejects a returnInternalServerErrorOnFailure that is not true or false', async () => {
    const answer = await request(`${reports()}/6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00?returnInternalServerErrorOnFailure=yes`);
    expectProblem(answer, 400);
  });

  describe('repeated query parameters', () => {
    /** A valid value of each query parameter the API documents. */
    const SAMPLES: Record<string, string> = {
      createdTimeFrom: '2026-01-01T00:00:00Z',
      createdTimeTo: '2026-12-31T00:00:00Z',
      top: '5',
      showInput: 'true',
      continuationToken: Buffer.from(JSON.stringify([1, '6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00'])).toString('base64url'),
      returnInternalServerErrorOnFailure: 'true',
      reason: 'no longer needed',
    };
    interface Parameter {
      in: string;
      name: string;
      schema?: { type?: string };
    }
    /** Every single-valued query parameter of every route, from the API's own OpenAPI document. */
    const singleValued = async () => {
      const document = (await request<{ paths: Record<string, Record<string, { parameters?: Parameter[] }>> }>(`${api.url}/docs-json`)).body;
      return Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.entries(operations).flatMap(([method, operation]) =>
          (operation.parameters ?? [])
            .filter((parameter) => parameter.in === 'query' && parameter.schema?.type !== 'array')
            .map((parameter) => ({ method: method.toUpperCase(), path, name: parameter.name })),
        ),
      );
    };
    const urlOf = (path: string, query: string) =>
      `${api.url}${path.replace('{instanceId}', '6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00')}?${query}`;

    it('answers 400 naming the parameter when any single-valued one is given twice', async () => {
      const parameters = await singleValued();
      expect(parameters.map((parameter) => parameter.name)).toEqual(expect.arrayContaining(['reason', 'top', 'returnInternalServerErrorOnFailure']));
      for (const { method, path, name } of parameters) {
        expect({ name, sample: SAMPLES[name] }).toEqual({ name, sample: expect.any(String) });
        const value = encodeURIComponent(SAMPLES[name]);
        const once = await request(urlOf(path, `${name}=${value}`), { method });
        expect({ method, path, name, status: once.status }).not.toMatchObject({ status: 400 });
        const twice = await request(urlOf(path, `${name}=${value}&${name}=${value}`), { method });
        expect({ method, path, name, status: twice.status }).toEqual({ method, path, name, status: 400 });
        expectProblem(twice, 400);
        expect(twice.body.errors).toContainEqual({ field: name, message: `${name} must be given once` });
      }
    });

    it('refuses 25 reasons of 500 characters, each within the length limit', async () => {
      const reason = `reason=${'r'.repeat(500)}`;
      const answer = await request(urlOf('/api/jobs/reports/{instanceId}/terminate', Array(25).fill(reason).join('&')), { method: 'POST' });
      expectProblem(answer, 400);
      expect(answer.body.errors).toEqual([{ field: 'reason', message: 'reason must be given once' }]);
    });

    it('still takes runtimeStatus repeated, as documented', async () => {
      const answer = await request(`${reports()}?runtimeStatus=Pending&runtimeStatus=Running,Completed`);
      expect(answer.status).toBe(200);
    });

    it('names every bad query field at once: repeated, invalid and unknown', async () => {
      const answer = await request(`${reports()}?top=5&top=6&showInput=maybe&colour=blue`);
      expectProblem(answer, 400);
      const fields = (answer.body.errors as Array<{ field: string }>).map((error) => error.field).sort();
      expect(fields).toEqual(['colour', 'showInput', 'top']);
    });
  });

  it('answers unknown routes with a 404 problem', async () => {
    expectProblem(await request(`${api.url}/api/nothing-here`), 404);
  });

  it('echoes a sane X-Request-Id and replaces one that is not', async () => {
    const kept = await request(`${api.url}/health/live`, { headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await request(`${api.url}/health/live`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const problem = await postJson(reports(), {}, { 'x-request-id': 'req-77' });
    expect(problem.body.requestId).toBe('req-77');
  });
});
