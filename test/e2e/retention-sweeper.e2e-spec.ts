import { validateEnvironment, type Environment } from '@report-jobs/config';
import { WorkerQueue } from '../../apps/worker/src/queue/worker-queue';
import { RetentionSweeper } from '../../apps/worker/src/retention/retention-sweeper';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// The sweeper against a real Redis: it must clear more than one batch per pass, or a
// steady stream of finished jobs outgrows it; and with several workers, one sweeps at a time.
describe('RetentionSweeper', () => {
  let redis: TestRedis;
  let env: Environment;
  let workerQueue: WorkerQueue;
  let sweeper: RetentionSweeper;
  const others: WorkerQueue[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    env = validateEnvironment({ REDIS_URL: redis.url, JOB_RETENTION_COMPLETED_SECONDS: '60' });
    workerQueue = new WorkerQueue(env);
    sweeper = new RetentionSweeper(workerQueue, env);
    await workerQueue.home.queue.waitUntilReady();
  });
  afterAll(async () => {
    await Promise.all([workerQueue, ...others].map((queue) => queue?.onApplicationShutdown()));
    await redis?.close();
  });

  /** `count` jobs of tenant-a, indexed, finished two minutes ago (out of the wait list, into the completed set). */
  async function finishedJobs(count: number, first = 0): Promise<string[]> {
    const { queue, keys } = workerQueue.home;
    const client = workerQueue.redis;
    const ids = Array.from({ length: count }, (_, i) => `00000000-0000-4000-8000-${String(first + i).padStart(12, '0')}`);
    await queue.addBulk(ids.map((id) => ({ name: 'report', data: { owner: 'tenant-a' } as never, opts: { jobId: id } })));
    const finishedAt = Date.now() - 120_000;
    const moves = client.multi().del(queue.keys.wait);
    for (const id of ids) moves.zadd(queue.keys.completed, finishedAt, id).zadd(keys.ownerIndex('tenant-a'), finishedAt, id);
    await moves.exec();
    return ids;
  }

  it('removes every finished job past retention in one pass, leaving a record owned like the job', async () => {
    const JOBS = 1200;
    const { queue, keys } = workerQueue.home;
    const client = workerQueue.redis;
    const ids = await finishedJobs(JOBS);

    expect(await sweeper.sweep()).toBe(JOBS);
    expect(await client.zcard(queue.keys.completed)).toBe(0);
    expect(await client.exists(queue.toKey(ids[JOBS - 1]))).toBe(0);
    expect(await client.zcard(keys.ownerIndex('tenant-a'))).toBe(0);
    expect(await client.hgetall(keys.gone(ids[0]))).toMatchObject({ kind: 'expired', owner: 'tenant-a' });
  });

  it('leaves jobs within their retention alone', async () => {
    const { queue } = workerQueue.home;
    const client = workerQueue.redis;
    await queue.add('report', {} as never, { jobId: '00000000-0000-4000-8000-999999999999' });
    await client.multi().del(queue.keys.wait).zadd(queue.keys.completed, Date.now(), '00000000-0000-4000-8000-999999999999').exec();
    expect(await sweeper.sweep()).toBe(0);
    expect(await client.exists(queue.toKey('00000000-0000-4000-8000-999999999999'))).toBe(1);
  });

  it('expires the jobs behind a full batch of jobs kept for their webhook, in the same pass', async () => {
    // More kept jobs than one read returns, all at the head of the set: a sweep that reads
    // from the head again after each batch would find only them and never reach the rest.
    const KEPT = 600;
    const BEHIND = 50;
    const { queue, keys } = workerQueue.home;
    const client = workerQueue.redis;
    const kept = await finishedJobs(KEPT, 30_000);
    const behind = await finishedJobs(BEHIND, 40_000);
    const heldFirst = client.multi();
    kept.forEach((id, i) => heldFirst.zadd(queue.keys.completed, Date.now() - 200_000 + i, id).zadd(keys.webhookOutbox, Date.now(), id));
    await heldFirst.exec();

    expect(await sweeper.sweep()).toBe(BEHIND);
    const exists = await Promise.all(behind.map((id) => client.exists(queue.toKey(id))));
    expect(exists.filter((found) => found === 1)).toEqual([]);
    // The kept ones stay until their delivery is queued.
    expect(await client.exists(queue.toKey(kept[0]))).toBe(1);
    const keptScores = await Promise.all(kept.map((id) => client.zscore(queue.keys.completed, id)));
    expect(keptScores.filter((score) => score === null)).toEqual([]);
    await client.del(keys.webhookOutbox);
    expect(await sweeper.sweep()).toBe(KEPT);
  });

  it('reads past only the jobs it kept: entries whose job is gone are dropped, and the jobs behind them expire in the same pass', async () => {
    const VANISHED = 600;
    const BEHIND = 40;
    const { queue } = workerQueue.home;
    const client = workerQueue.redis;
    const behind = await finishedJobs(BEHIND, 50_000);
    // Entries of the finished set whose job hash is already gone, at its head.
    const orphans = client.multi();
    for (let i = 0; i < VANISHED; i++) orphans.zadd(queue.keys.completed, Date.now() - 300_000 + i, `00000000-0000-4000-8000-${String(60_000 + i).padStart(12, '0')}`);
    await orphans.exec();

    expect(await sweeper.sweep()).toBe(BEHIND);
    const left = await Promise.all(behind.map((id) => client.exists(queue.toKey(id))));
    expect(left.filter((found) => found === 1)).toEqual([]);
    expect(await client.zcount(queue.keys.completed, '-inf', Date.now() - 60_000)).toBe(0);
  });

  it('lets one of several workers sweep at a time, and each job expire once', async () => {
    const JOBS = 1500;
    const ids = await finishedJobs(JOBS, 10_000);
    const sweepers = [sweeper];
    for (let i = 0; i < 2; i++) {
      const queue = new WorkerQueue(env);
      others.push(queue);
      sweepers.push(new RetentionSweeper(queue, env));
    }
    await Promise.all(others.map((queue) => queue.home.queue.waitUntilReady()));

    const removed = await Promise.all(sweepers.map((each) => each.sweep()));
    // One took the lease and removed them all; the others found it held and left.
    expect(removed.sort((a, b) => a - b)).toEqual([0, 0, JOBS]);
    const left = await Promise.all(ids.map((id) => workerQueue.redis.zscore(workerQueue.home.queue.keys.completed, id)));
    expect(left.filter((score) => score !== null)).toEqual([]);
    expect(await workerQueue.redis.hget(workerQueue.home.keys.gone(ids[0]), 'kind')).toBe('expired');
    // The lease was given back: the next sweep may run (and finds nothing left).
    expect(await workerQueue.redis.exists(workerQueue.home.keys.sweepLease)).toBe(0);
  });

  it('waits while another worker holds the lease, and sweeps once it lapses', async () => {
    const [id] = await finishedJobs(1, 20_000);
    // A worker that died mid-sweep: its lease lapses by itself.
    await workerQueue.redis.set(workerQueue.home.keys.sweepLease, 'a-dead-worker', 'PX', 500);
    expect(await sweeper.sweep()).toBe(0);
    expect(await workerQueue.redis.exists(workerQueue.home.queue.toKey(id))).toBe(1);
    await waitFor('the lease to lapse and the sweep to run', async () => (await sweeper.sweep()) === 1);
    expect(await workerQueue.redis.exists(workerQueue.home.queue.toKey(id))).toBe(0);
  });
});
