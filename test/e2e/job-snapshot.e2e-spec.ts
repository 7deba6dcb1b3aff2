import { FlowProducer, Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { validateEnvironment } from '@report-jobs/config';
import { createRedisClient, JobSnapshotReader } from '@report-jobs/queue';
import { startTestRedis, type TestRedis } from '../support/redis-server';

// The status read must agree with BullMQ's own Job.getState() in every state, and must
// never touch the wait list, whose scan makes getState() slower as the backlog grows.
describe('JobSnapshotReader', () => {
  let redis: TestRedis;
  let connection: Redis;
  let queue: Queue;
  let reader: JobSnapshotReader;
  let worker: Worker;
  let flows: FlowProducer;

  beforeAll(async () => {
    redis = await startTestRedis();
    connection = createRedisClient(validateEnvironment({ REDIS_URL: redis.url }), 'producer') as Redis;
    queue = new Queue('reports', { connection });
    reader = new JobSnapshotReader(connection, queue);
    // A worker that does not run by itself: the test moves jobs by hand.
    worker = new Worker('reports', null, { connection: { url: redis.url, maxRetriesPerRequest: null } as never, autorun: false });
    flows = new FlowProducer({ connection });
    await queue.waitUntilReady();
  });
  afterAll(async () => {
    await worker?.close();
    await flows?.close();
    await queue?.close();
    connection?.disconnect();
    await redis?.close();
  });

  async function expectAgreement(jobId: string, expected: string): Promise<void> {
    const ours = await reader.read(jobId);
    const theirs = await queue.getJobState(jobId);
    expect(theirs).toBe(expected);
    expect(ours?.state ?? 'unknown').toBe(theirs);
  }

  /**
   * When BullMQ itself says a delayed job is due: the epoch ms its scripts publish in the
   * `delayed` event, computed by the same code that encodes the delayed set's score.
   */
  async function bullmqDueAt(jobId: string): Promise<number> {
    const events = await connection.xrevrange(queue.keys.events, '+', '-');
    for (const [, flat] of events) {
      const fields = Object.fromEntries(flat.flatMap((value, i) => (i % 2 === 0 ? [[value, flat[i + 1]]] : [])));
      if (fields.event === 'delayed' && fields.jobId === jobId) return Number(fields.delay);
    }
    throw new Error(`BullMQ published no delayed event for ${jobId}`);
  }

  /** Takes the next job as a worker would (it becomes active) and returns it with its lock token. */
  async function takeNext(token: string): Promise<Job> {
    const job = await worker.getNextJob(token, { block: false });
    if (!job) throw new Error('no job to take');
    return job;
  }

  it('agrees with getState() through every state a job can be in', async () => {
    await expectAgreement('00000000-0000-4000-8000-000000000000', 'unknown');

    await queue.add('report', { n: 1 }, { jobId: 'job-waiting' });
    await expectAgreement('job-waiting', 'waiting');

    await queue.add('report', { n: 2 }, { jobId: 'job-delayed', delay: 60_000 });
    await expectAgreement('job-delayed', 'delayed');
    const delayed = (await queue.getJob('job-delayed'))!;
    expect((await reader.read('job-delayed'))?.dueAt).toBe(delayed.timestamp + 60_000);
    expect((await reader.read('job-delayed'))?.dueAt).toBe(await bullmqDueAt('job-delayed'));

    await queue.add('report', { n: 3 }, { jobId: 'job-prioritized', priority: 5 });
    await expectAgreement('job-prioritized', 'prioritized');

    const active = await takeNext('token-1');
    expect(active.id).toBe('job-waiting');
    await expectAgreement('job-waiting', 'active');

    await active.moveToCompleted({ ok: true }, 'token-1', false);
    await expectAgreement('job-waiting', 'completed');

    // A failed attempt with retries left and a backoff: delayed until its next attempt.
    await queue.add('report', { n: 4 }, { jobId: 'job-retrying', attempts: 3, backoff: { type: 'fixed', delay: 60_000 }, priority: 1 });
    const retrying = await takeNext('token-2');
    expect(retrying.id).toBe('job-retrying');
    await retrying.moveToFailed(new Error('first attempt failed'), 'token-2', false);
    await expectAgreement('job-retrying', 'delayed');
    expect((await reader.read('job-retrying'))?.attemptsMade).toBe(1);
    // Due one backoff after the failed attempt, as BullMQ computed it.
    expect((await reader.read('job-retrying'))?.dueAt).toBe(await bullmqDueAt('job-retrying'));

    // A failed attempt with retries left and no backoff goes straight back to waiting.
    await queue.add('report', { n: 5 }, { jobId: 'job-requeued', attempts: 2, priority: 1 });
    const requeued = await takeNext('token-3');
    expect(requeued.id).toBe('job-requeued');
    await requeued.moveToFailed(new Error('try again'), 'token-3', false);
    expect(['waiting', 'prioritized']).toContain(await queue.getJobState('job-requeued'));
    await expectAgreement('job-requeued', await queue.getJobState('job-requeued'));
    const again = await takeNext('token-3b');
    expect(again.id).toBe('job-requeued');
    await expectAgreement('job-requeued', 'active');
    await again.moveToCompleted({ ok: true }, 'token-3b', false);
    await expectAgreement('job-requeued', 'completed');

    // The last attempt fails: failed for good.
    await queue.add('report', { n: 6 }, { jobId: 'job-failed', attempts: 1, priority: 1 });
    const failing = await takeNext('token-4');
    expect(failing.id).toBe('job-failed');
    await failing.moveToFailed(new Error('no luck'), 'token-4', false);
    await expectAgreement('job-failed', 'failed');

    // A parent waiting for its child.
    await flows.add({ name: 'report', queueName: 'reports', data: {}, opts: { jobId: 'job-parent' }, children: [{ name: 'report', queueName: 'reports', data: {}, opts: { jobId: 'job-child', delay: 60_000 } }] });
    await expectAgreement('job-parent', 'waiting-children');

    // Jobs added while the queue is paused read as waiting (BullMQ 6 has no paused state).
    await queue.pause();
    await queue.add('report', { n: 7 }, { jobId: 'job-paused' });
    await expectAgreement('job-paused', 'waiting');
    await queue.resume();
    await expectAgreement('job-paused', 'waiting');
  });

  it('decodes what the status payload needs', async () => {
    await queue.add('report', { input: { customer_id: 'c' } }, { jobId: 'job-decoded', attempts: 4 });
    const snapshot = await reader.read('job-decoded');
    expect(snapshot).toMatchObject({
      id: 'job-decoded',
      state: expect.stringMatching(/waiting|prioritized/),
      data: { input: { customer_id: 'c' } },
      maxAttempts: 4,
      attemptsMade: 0,
      attemptsStarted: 0,
    });
    expect(snapshot!.timestamp).toBeGreaterThan(Date.now() - 60_000);
  });

  describe('with a backlog', () => {
    const BACKLOG = 5000;
    const commandsOf = async (read: () => Promise<unknown>): Promise<string[][]> => {
      const monitor = await redis.client().monitor();
      const seen: string[][] = [];
      monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
      await read();
      // MONITOR delivers asynchronously: a marker command tells when everything has arrived.
      const marker = redis.client();
      await marker.echo('end-of-read');
      await new Promise<void>((resolve) => {
        const check = () => (seen.some((args) => args[0]?.toLowerCase() === 'echo') ? resolve() : setTimeout(check, 10));
        check();
      });
      monitor.disconnect();
      return seen.filter((args) => args[0]?.toLowerCase() !== 'echo');
    };

    beforeAll(async () => {
      await queue.obliterate({ force: true });
      for (let start = 0; start < BACKLOG; start += 1000) {
        await queue.addBulk(
          Array.from({ length: 1000 }, (_, i) => ({ name: 'report', data: { i: start + i }, opts: { jobId: `backlog-${start + i}` } })),
        );
      }
      expect(await queue.getWaitingCount()).toBe(BACKLOG);
    });

    it('reads the oldest and the newest waiting job with the same Redis commands, none on the wait list', async () => {
      const oldest = await commandsOf(() => reader.read('backlog-0'));
      const newest = await commandsOf(() => reader.read(`backlog-${BACKLOG - 1}`));

      const shape = (commands: string[][]) =>
        commands.map((args) => args.map((arg) => arg.replace(/backlog-\d+/, 'ID')).filter((arg) => !/^[0-9a-f]{40}$/.test(arg)));
      expect(shape(oldest)).toEqual(shape(newest));
      // One script call, and inside it no scan of the wait list: its length (O(1)) at most.
      expect(oldest.filter((args) => /^eval/i.test(args[0]))).toHaveLength(1);
      const onWaitList = oldest.filter((args) => !/^eval/i.test(args[0]) && args.includes('bull:reports:wait'));
      expect(onWaitList.map((args) => args[0].toLowerCase())).toEqual(['llen']);
    });

    it('is a real check: getState() does scan the wait list', async () => {
      const commands = await commandsOf(() => queue.getJobState('backlog-0'));
      const scans = commands.filter((args) => /^(lrange|lpos)$/i.test(args[0]) && args[1] === 'bull:reports:wait');
      expect(scans.length).toBeGreaterThan(0);
    });

    it('tells how many jobs wait, for the Retry-After of a pending job', async () => {
      expect((await reader.read('backlog-0'))?.waitingCount).toBe(BACKLOG);
    });
  });
});
