import { startApi, startWorker, type AppProcess } from '../support/apps';
import { pollUntilDone, postJson } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';

const JOBS = 60;

// Horizontal scaling: two worker processes share the queue; every job runs exactly once.
describe('two worker processes', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let workers: AppProcess[];

  beforeAll(async () => {
    redis = await startTestRedis();
    // Low concurrency so that neither worker can take the whole batch by itself at once.
    [api, ...workers] = await Promise.all([
      startApi(redis.url),
      startWorker(redis.url, { WORKER_CONCURRENCY: '2' }),
      startWorker(redis.url, { WORKER_CONCURRENCY: '2' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api, ...(workers ?? [])].map((app) => app?.stop()));
    await redis?.close();
  });

  it('spreads a batch over both workers and runs each job exactly once', async () => {
    const accepted = await Promise.all(
      Array.from({ length: JOBS }, (_, i) =>
        postJson(`${api.url}/api/jobs/reports`, { customer_id: `cust-${i}`, delay_seconds: 0 }),
      ),
    );
    expect(accepted.map((answer) => answer.status)).toEqual(Array(JOBS).fill(202));
    const ids = accepted.map((answer) => answer.body.instanceId as string);
    expect(new Set(ids).size).toBe(JOBS);

    const finals = await Promise.all(
      accepted.map(async (answer) => (await pollUntilDone(answer.body.statusQueryGetUri as string)).at(-1)!),
    );
    for (const [i, final] of finals.entries()) {
      expect(final.status).toBe(200);
      expect(final.body).toMatchObject({ runtimeStatus: 'Completed', attempt: 1, output: { instanceId: ids[i] } });
    }

    // Which worker started each job, from the workers' own logs.
    await Promise.all(workers.map((worker) => worker.settledLogLines()));
    const startsPerWorker = workers.map((worker) =>
      worker
        .logLines()
        .filter((line) => line.msg === 'Attempt started')
        .map((line) => line.instanceId as string),
    );
    const allStarts = startsPerWorker.flat();
    expect(allStarts.sort()).toEqual([...ids].sort());
    for (const starts of startsPerWorker) expect(starts.length).toBeGreaterThan(0);
  });

  it('stops a worker on SIGTERM with exit code 0', async () => {
    const extra = await startWorker(redis.url);
    expect(await extra.stop('SIGTERM')).toBe(0);
  });
});
