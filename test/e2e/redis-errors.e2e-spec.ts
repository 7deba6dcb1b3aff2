import type { Redis } from 'ioredis';
import { startApi, type AppProcess } from '../support/apps';
import { postJson, request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// A Redis error is an outage (503, try again) only when Redis is unreachable or did not
// answer; anything else is a fault (500) that no retry fixes and readiness must not hide.
// A submit whose add Redis never confirmed says the job may exist, and where to look.
describe('Redis errors', () => {
  let redis: TestRedis;
  let admin: Redis;
  let api: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    admin = redis.client();
    api = await startApi(redis.url);
  });
  afterAll(async () => {
    await api?.stop();
    await redis?.close();
  });

  const reports = () => `${api.url}/api/jobs/reports`;
  const problemLines = (requestId: string) => api.logLines().filter((line) => line.requestId === requestId);

  it('answers 500 problem+json, not 503, when a job read meets a key of the wrong type; readiness stays 200', async () => {
    const accepted = await postJson(reports(), { customer_id: 'corrupted', delay_seconds: 0 });
    expect(accepted.status).toBe(202);
    const id = accepted.body.instanceId as string;
    // The job's hash replaced by a string: every read of it fails with WRONGTYPE.
    await admin.set(`bull:reports:${id}`, 'not a hash');

    const answer = await request(accepted.body.statusQueryGetUri as string, { headers: { 'x-request-id': 'corrupt-read-1' } });
    expect(answer.status).toBe(500);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.headers.get('retry-after')).toBeNull();
    expect(answer.body).toMatchObject({ status: 500, title: 'Internal Server Error', requestId: 'corrupt-read-1' });
    expect(JSON.stringify(answer.body)).not.toMatch(/WRONGTYPE|bull:|redis|script/i);
    expect((await request(`${api.url}/health/ready`)).status).toBe(200);

    // The detail is in the log, at error level, under the request id.
    const logged = await waitFor('the error to be logged', async () => problemLines('corrupt-read-1').find((line) => line.level === 50));
    expect(JSON.stringify(logged)).toContain('WRONGTYPE');
    // The request's own line says it errored, at error level too, and carries the same id.
    const requestLine = await waitFor('the request line', async () =>
      api.logLines().find((line) => (line.req as { id?: string } | undefined)?.id === 'corrupt-read-1' && line.msg === 'request errored'),
    );
    expect(requestLine).toMatchObject({ level: 50, res: { statusCode: 500 } });
    // Lines logged while serving it carry the request too, not only the ones that pass it.
    expect(JSON.stringify(logged)).toContain('"req":{"id":"corrupt-read-1"');
  });

  it('answers a submit that Redis did not confirm in time with 503 naming the job, which then tells the truth', async () => {
    // Redis holds every write for 3 s, past the API's 1 s command deadline; then runs it.
    await admin.call('CLIENT', 'PAUSE', '3000', 'WRITE');
    const answer = await postJson(reports(), { customer_id: 'stalled', delay_seconds: 0 }, { 'x-request-id': 'stalled-submit-1' });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const instanceId = answer.body.instanceId as string;
    expect(instanceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.body).toMatchObject({
      status: 503,
      requestId: 'stalled-submit-1',
      statusQueryGetUri: `${reports()}/${instanceId}`,
      detail: expect.stringContaining('may have been queued'),
    });
    expect(answer.body.detail).toContain('Idempotency-Key');

    // Once Redis resumes, the add it held runs: the status URL shows the job.
    const status = await waitFor('the status URL to answer', async () => {
      const read = await request(answer.body.statusQueryGetUri as string);
      return read.status === 503 ? undefined : read;
    });
    expect(status.status).toBe(202);
    expect(status.body).toMatchObject({ instanceId, runtimeStatus: 'Pending', input: { customer_id: 'stalled' } });
  });
});
