import { validateEnvironment } from '@report-jobs/config';
import { WorkerQueue } from '../../apps/worker/src/queue/worker-queue';
import { RetentionSweeper } from '../../apps/worker/src/retention/retention-sweeper';
import { startTestRedis, type TestRedis } from '../support/redis-server';

// The sweeper against a real Redis: it must clear more than one batch per pass, or a
// steady stream of finished jobs outgrows it.
describe('RetentionSweeper', () => {
  let redis: TestRedis;
  let workerQueue: WorkerQueue;
  let sweeper: RetentionSweeper;

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = validateEnvironment({ REDIS_URL: redis.url, JOB_RETENTION_COMPLETED_SECONDS: '60' });
    workerQueue = new WorkerQueue(env);
    sweeper = new RetentionSweeper(workerQueue, env);
    await workerQueue.queue.waitUntilReady();
  });
  afterAll(async () => {
    await workerQueue?.onApplicationShutdown();
    await redis?.close();
  });

  it('removes every finished job past retention in one pass, leaving a record owned like the job', async () => {
    const JOBS = 1200;
    const { queue, redis: client, keys } = workerQueue;
    const ids = Array.from({ length: JOBS }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    await queue.addBulk(ids.map((id) => ({ name: 'report', data: { owner: 'tenant-a' } as never, opts: { jobId: id } })));
    // Made finished two minutes ago: out of the wait list, into the completed set.
    const finishedAt = Date.now() - 120_000;
    const moves = client.multi().del(queue.keys.wait);
    for (const id of ids) moves.zadd(queue.keys.completed, finishedAt, id).zadd(keys.ownerIndex('tenant-a'), finishedAt, id);
    await moves.exec();

    expect(await sweeper.sweep()).toBe(JOBS);
    expect(await client.zcard(queue.keys.completed)).toBe(0);
    expect(await client.exists(queue.toKey(ids[JOBS - 1]))).toBe(0);
    expect(await client.zcard(keys.ownerIndex('tenant-a'))).toBe(0);
    expect(await client.hgetall(keys.gone(ids[0]))).toMatchObject({ kind: 'expired', owner: 'tenant-a' });
  });

  it('leaves jobs within their retention alone', async () => {
    const { queue, redis: client } = workerQueue;
    await queue.add('report', {} as never, { jobId: '00000000-0000-4000-8000-999999999999' });
    await client.multi().del(queue.keys.wait).zadd(queue.keys.completed, Date.now(), '00000000-0000-4000-8000-999999999999').exec();
    expect(await sweeper.sweep()).toBe(0);
    expect(await client.exists(queue.toKey('00000000-0000-4000-8000-999999999999'))).toBe(1);
  });
});
