import { startApi, startWorker, type AppProcess } from '../support/apps';
import { describeWithOwnRedis, startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// BullMQ loses jobs when Redis evicts keys: both apps say so at boot, and what to set,
// when Redis runs with any maxmemory-policy but noeviction. It configures its own Redis.
describeWithOwnRedis('Redis eviction policy', () => {
  const EVICTS = /maxmemory-policy is allkeys-lru.*Set maxmemory-policy noeviction/;
  const KEEPS = 'Redis keeps every key under memory pressure (maxmemory-policy noeviction)';
  const messages = (app: AppProcess) => app.logLines().map((line) => ({ level: line.level, msg: String(line.msg) }));

  const bootBoth = async (redis: TestRedis) => Promise.all([startApi(redis.url), startWorker(redis.url)]);

  describe('allkeys-lru', () => {
    let redis: TestRedis;
    let apps: AppProcess[] = [];
    beforeAll(async () => {
      redis = await startTestRedis({ serverArgs: ['--maxmemory-policy', 'allkeys-lru'] });
      apps = await bootBoth(redis);
    });
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.stop()));
      await redis?.close();
    });

    it('makes the API and the worker warn at boot, saying what to set', async () => {
      for (const app of apps) {
        const warning = await waitFor('the eviction warning', async () => messages(app).find((line) => EVICTS.test(line.msg)));
        expect(warning.level).toBe(40);
        expect(messages(app).map((line) => line.msg)).not.toContain(KEEPS);
      }
    });
  });

  describe('noeviction, redis-server\'s default', () => {
    let redis: TestRedis;
    let apps: AppProcess[] = [];
    beforeAll(async () => {
      redis = await startTestRedis();
      apps = await bootBoth(redis);
    });
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.stop()));
      await redis?.close();
    });

    it('gives no warning once either app has checked', async () => {
      for (const app of apps) {
        await waitFor('the policy check', async () => messages(app).some((line) => line.msg === KEEPS));
        expect(messages(app).filter((line) => /maxmemory|evict/i.test(line.msg) && line.msg !== KEEPS)).toEqual([]);
      }
    });
  });
});
