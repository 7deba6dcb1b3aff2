import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { validateEnvironment } from '@report-jobs/config';
import { mapJobState } from '@report-jobs/contract';
import { bookkeepingKeys, createRedisClient, JobLifecycle, JobSnapshotReader, type BookkeepingKeys } from '@report-jobs/queue';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// The scripts that change a job's fate (terminate, purge, expire, index), against a real
// Redis and BullMQ's own view of the queue: each branch with a job placed in that state.
describe('JobLifecycle', () => {
  const GONE_RETENTION_MS = 60_000;
  let redis: TestRedis;
  let connection: Redis;
  let queue: Queue;
  let lifecycle: JobLifecycle;
  let reader: JobSnapshotReader;
  let keys: BookkeepingKeys;
  let events: QueueEvents;
  /** Moves jobs by hand: it runs nothing by itself. */
  let hands: Worker;
  const failedEvents: Array<{ jobId: string; failedReason: string; prev?: string }> = [];
  let serial = 0;

  beforeAll(async () => {
    redis = await startTestRedis();
    connection = createRedisClient(validateEnvironment({ REDIS_URL: redis.url }), 'producer') as Redis;
    queue = new Queue('reports', { connection });
    lifecycle = new JobLifecycle(connection, queue, GONE_RETENTION_MS);
    reader = new JobSnapshotReader(connection, queue);
    keys = bookkeepingKeys(queue);
    hands = new Worker('reports', null, { connection: { url: redis.url, maxRetriesPerRequest: null } as never, autorun: false });
    events = new QueueEvents('reports', { connection: { url: redis.url, maxRetriesPerRequest: null } as never });
    events.on('failed', (event) => failedEvents.push(event));
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), hands.waitUntilReady()]);
  });
  afterAll(async () => {
    await Promise.all([hands?.close(), events?.close(), queue?.close()]);
    connection?.disconnect();
    await redis?.close();
  });
  beforeEach(async () => {
    await queue.obliterate({ force: true });
    await redis.client().del(keys.index, keys.ownerIndex('tenant-a'));
  });

  /** A new job id (a UUID, as the API makes them). */
  const newId = () => `00000000-0000-4000-8000-${String(++serial).padStart(12, '0')}`;
  const data = (owner = 'tenant-a') => ({ input: { customer_id: 'c', operation: 'rebuild-report', delay_seconds: 0 }, owner, requestFingerprint: 'fp-1' });
  const add = async (opts: Record<string, unknown> = {}, owner = 'tenant-a') => {
    const id = newId();
    await queue.add('report', data(owner), { jobId: id, attempts: 3, ...opts });
    expect(await lifecycle.index(id, owner)).toBe(true);
    return id;
  };
  /** Takes the next job as a worker does: it becomes active and locked by `token`. */
  const take = async (token: string): Promise<Job> => {
    const job = await hands.getNextJob(token, { block: false });
    if (!job) throw new Error('no job to take');
    return job;
  };
  const runtimeStatusOf = async (id: string) => {
    const job = await reader.read(id);
    return job && mapJobState(job.state, job.attemptsStarted, { endedByTermination: job.terminated !== undefined })?.runtimeStatus;
  };

  describe('terminate', () => {
    it('ends a waiting, a prioritized and a delayed job as BullMQ fails a job, and no worker runs them', async () => {
      const waiting = await add();
      const prioritized = await add({ priority: 3 });
      const delayed = await add({ delay: 200 });
      expect(await Promise.all([waiting, prioritized, delayed].map((id) => queue.getJobState(id)))).toEqual(['waiting', 'prioritized', 'delayed']);

      const now = Date.now();
      for (const id of [waiting, prioritized, delayed]) {
        expect(await lifecycle.terminate(id, 'tenant-a', 'no longer needed', now)).toEqual({ outcome: 'terminated' });
      }

      for (const id of [waiting, prioritized, delayed]) {
        expect(await queue.getJobState(id)).toBe('failed');
        const job = (await Job.fromId(queue, id))!;
        expect(job).toMatchObject({ failedReason: 'Terminated: no longer needed', finishedOn: now, attemptsMade: 0 });
        expect(await reader.read(id)).toMatchObject({ state: 'failed', terminated: { reason: 'no longer needed', at: now } });
        expect(await runtimeStatusOf(id)).toBe('Terminated');
      }
      expect(await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed')).toEqual({
        waiting: 0,
        prioritized: 0,
        delayed: 0,
        active: 0,
        failed: 3,
      });
      await waitFor('three failed events', async () => failedEvents.filter((event) => [waiting, prioritized, delayed].includes(event.jobId)).length === 3);
      expect(failedEvents.filter((event) => event.jobId === delayed)).toEqual([
        expect.objectContaining({ failedReason: 'Terminated: no longer needed', prev: 'delayed' }),
      ]);

      // A running worker takes only the job added afterwards, due after the delayed one would have been.
      const ran: string[] = [];
      const control = await add({ delay: 400 });
      const worker = new Worker('reports', async (job) => void ran.push(job.id!), {
        connection: { url: redis.url, maxRetriesPerRequest: null } as never,
      });
      try {
        await waitFor('the control job to run', async () => ran.includes(control));
      } finally {
        await worker.close();
      }
      expect(ran).toEqual([control]);
    });

    it('ends a job waiting for its retry, keeping the attempts it made', async () => {
      const id = await add({ backoff: { type: 'fixed', delay: 60_000 } });
      const job = await take('token-retry');
      await job.moveToFailed(new Error('first attempt failed'), 'token-retry');
      expect(await queue.getJobState(id)).toBe('delayed');

      expect(await lifecycle.terminate(id, 'tenant-a', 'stop', Date.now())).toEqual({ outcome: 'terminated' });
      expect(await queue.getJobState(id)).toBe('failed');
      expect(await reader.read(id)).toMatchObject({ attemptsMade: 1, failedReason: 'Terminated: stop', terminated: { reason: 'stop' } });
    });

    it('asks the worker of a running job to stop, and leaves the job’s own end to it', async () => {
      const subscriber = redis.client();
      const messages: unknown[] = [];
      subscriber.on('message', (_channel: string, message: string) => messages.push(JSON.parse(message)));
      await subscriber.subscribe(keys.cancelChannel);

      const completes = await add();
      const fails = await add({ attempts: 1 });
      const aborted = await add({ attempts: 1 });
      const jobs = [await take('t-1'), await take('t-2'), await take('t-3')];
      for (const id of [completes, fails, aborted]) {
        expect(await lifecycle.terminate(id, 'tenant-a', 'please stop', Date.now())).toEqual({ outcome: 'requested' });
        expect(await queue.getJobState(id)).toBe('active');
        expect(await reader.read(id)).toMatchObject({ terminateRequested: { reason: 'please stop' } });
        expect(await runtimeStatusOf(id)).toBe('Running');
      }
      await waitFor('the requests on the cancel channel', async () => messages.length === 3);
      expect(messages).toContainEqual({ instanceId: completes, reason: 'please stop' });

      // It completes anyway: Completed, with its result.
      await jobs[0].moveToCompleted({ done: true }, 't-1', false);
      expect(await runtimeStatusOf(completes)).toBe('Completed');
      expect(await lifecycle.terminate(completes, 'tenant-a', 'again', Date.now())).toEqual({ outcome: 'ended', end: 'completed' });
      expect((await reader.read(completes))?.returnValue).toEqual({ done: true });

      // It fails on its own: Failed, not Terminated.
      await jobs[1].moveToFailed(new Error('broke on its own'), 't-2');
      expect(await runtimeStatusOf(fails)).toBe('Failed');
      expect(await lifecycle.terminate(fails, 'tenant-a', 'again', Date.now())).toEqual({ outcome: 'ended', end: 'failed' });

      // Its worker aborts it: only the holder of the lock may record that it ended by termination.
      expect(await lifecycle.recordTermination(aborted, 'not-the-holder', { reason: 'please stop', at: 1 })).toBe(false);
      expect(await lifecycle.recordTermination(aborted, 't-3', { reason: 'please stop', at: 2 })).toBe(true);
      await jobs[2].moveToFailed(new Error('Terminated: please stop'), 't-3');
      expect(await runtimeStatusOf(aborted)).toBe('Terminated');
      expect(await lifecycle.terminate(aborted, 'tenant-a', 'again', Date.now())).toEqual({ outcome: 'ended', end: 'terminated' });
    });

    it('answers none for unknown and other principals’ jobs, and gone for a removed one', async () => {
      expect(await lifecycle.terminate(newId(), undefined, 'x', Date.now())).toEqual({ outcome: 'none' });
      const id = await add();
      expect(await lifecycle.terminate(id, 'tenant-b', 'x', Date.now())).toEqual({ outcome: 'none' });
      expect(await queue.getJobState(id)).toBe('waiting');
      // An admin (no principal to match) may.
      expect(await lifecycle.terminate(id, undefined, 'by ops', Date.now())).toEqual({ outcome: 'terminated' });

      const purgedAt = Date.now();
      expect(await lifecycle.purge(id, 'tenant-a', purgedAt)).toEqual({ outcome: 'purged' });
      expect(await lifecycle.terminate(id, 'tenant-a', 'x', Date.now())).toEqual({
        outcome: 'gone',
        record: { id, kind: 'purged', at: purgedAt, owner: 'tenant-a', requestFingerprint: 'fp-1' },
      });
      expect(await lifecycle.terminate(id, 'tenant-b', 'x', Date.now())).toEqual({ outcome: 'none' });
    });
  });

  describe('purge', () => {
    it('removes a finished job, its keys and index entries, leaving one record with what idempotency needs', async () => {
      const id = await add();
      const job = await take('t-purge');
      await job.log('a line');
      await job.moveToCompleted({ done: true }, 't-purge', false);

      const now = Date.now();
      expect(await lifecycle.purge(id, 'tenant-b', now)).toEqual({ outcome: 'none' });
      expect(await lifecycle.purge(id, 'tenant-a', now)).toEqual({ outcome: 'purged' });
      const client = redis.client();
      expect(await client.keys(`${queue.toKey(id)}*`)).toEqual([]);
      expect(await client.zscore(queue.keys.completed, id)).toBeNull();
      expect(await client.zscore(keys.index, id)).toBeNull();
      expect(await client.zscore(keys.ownerIndex('tenant-a'), id)).toBeNull();
      expect(await client.hgetall(keys.gone(id))).toEqual({ kind: 'purged', at: String(now), owner: 'tenant-a', requestFingerprint: 'fp-1' });
      const ttl = await client.pttl(keys.gone(id));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(GONE_RETENTION_MS);

      expect(await lifecycle.purge(id, 'tenant-a', now + 1)).toMatchObject({ outcome: 'gone', record: { kind: 'purged', at: now } });
    });

    it('refuses a job that has not ended', async () => {
      const waiting = await add();
      const running = await add();
      await take('t-running');
      for (const id of [waiting, running]) {
        expect(await lifecycle.purge(id, 'tenant-a', Date.now())).toEqual({ outcome: 'running' });
        expect(await redis.client().exists(queue.toKey(id))).toBe(1);
      }
    });
  });

  describe('expire', () => {
    const finishedAt = async (finishedOn: number) => {
      const id = await add();
      const job = await take(`t-${id}`);
      await job.moveToCompleted({ done: true }, `t-${id}`, false);
      await redis.client().zadd(queue.keys.completed, finishedOn, id);
      return id;
    };

    it('expires only jobs finished at or before the cutoff, once', async () => {
      const now = Date.now();
      const old = await finishedAt(now - 10_000);
      const recent = await finishedAt(now);
      expect(await lifecycle.expire([old, recent], queue.keys.completed, now - 5_000, now)).toBe(1);
      expect(await redis.client().hgetall(keys.gone(old))).toEqual({ kind: 'expired', at: String(now), owner: 'tenant-a', requestFingerprint: 'fp-1' });
      expect(await redis.client().zrange(keys.ownerIndex('tenant-a'), '0', '-1')).toEqual([recent]);
      expect(await redis.client().exists(queue.toKey(recent))).toBe(1);
      // A second sweep of the same ids changes nothing.
      expect(await lifecycle.expire([old, recent], queue.keys.completed, now - 5_000, now + 1)).toBe(0);
      expect(await redis.client().hget(keys.gone(old), 'at')).toBe(String(now));
    });

    it('never relabels a job purged after the sweep read it', async () => {
      const now = Date.now();
      const id = await finishedAt(now - 10_000);
      // The sweep has read the id as due; a purge comes first.
      expect(await lifecycle.purge(id, 'tenant-a', now)).toEqual({ outcome: 'purged' });
      expect(await lifecycle.expire([id], queue.keys.completed, now - 5_000, now + 1)).toBe(0);
      expect(await redis.client().hgetall(keys.gone(id))).toMatchObject({ kind: 'purged', at: String(now) });
    });

    it('drops a finished-set entry whose job hash has vanished', async () => {
      const id = newId();
      await redis.client().zadd(queue.keys.completed, 1, id);
      expect(await lifecycle.expire([id], queue.keys.completed, Date.now(), Date.now())).toBe(0);
      expect(await redis.client().zscore(queue.keys.completed, id)).toBeNull();
      expect(await redis.client().exists(keys.gone(id))).toBe(0);
    });
  });

  describe('index', () => {
    it('indexes only jobs that exist, by their own creation time, once', async () => {
      const missing = newId();
      expect(await lifecycle.index(missing, 'tenant-a')).toBe(false);
      expect(await redis.client().zscore(keys.index, missing)).toBeNull();

      const id = newId();
      await queue.add('report', data(), { jobId: id, timestamp: 1_700_000_000_123 });
      expect(await lifecycle.index(id, 'tenant-a')).toBe(true);
      expect(await lifecycle.index(id, 'tenant-a')).toBe(true);
      expect(await redis.client().zrange(keys.ownerIndex('tenant-a'), '0', '-1', 'WITHSCORES')).toEqual([id, '1700000000123']);
      expect(await redis.client().zcard(keys.index)).toBe(1);
    });

    it('indexes concurrent calls in one script call, answering each for its own job', async () => {
      const owners = ['tenant-a', 'tenant-b', 'tenant-a'];
      const ids = owners.map(() => newId());
      await Promise.all(ids.map((id, i) => queue.add('report', data(owners[i]), { jobId: id, timestamp: 1_700_000_000_000 + i })));
      const missing = newId();
      const calls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.client().info('commandstats'))?.[1] ?? 0);
      const before = await calls();

      const answers = await Promise.all([...ids.map((id, i) => lifecycle.index(id, owners[i])), lifecycle.index(missing, 'tenant-b')]);

      expect(answers).toEqual([true, true, true, false]);
      // One script call for the four (the INFO call itself is not an EVALSHA).
      expect((await calls()) - before).toBe(1);
      expect(await redis.client().zrange(keys.index, '0', '-1')).toEqual(ids);
      expect(await redis.client().zrange(keys.ownerIndex('tenant-b'), '0', '-1', 'WITHSCORES')).toEqual([ids[1], '1700000000001']);
      await redis.client().del(keys.ownerIndex('tenant-b'));
    });
  });
});
