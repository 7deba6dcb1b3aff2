import { setTimeout as sleep } from 'node:timers/promises';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { postJson, request, type JsonResponse } from '../support/http';
import { startRedisSentinel, type TestRedisSentinel } from '../support/redis-sentinel';
import { waitFor } from '../support/wait';

/** Pause between two submits of one lane of the stream: four lanes make a steady stream of at most a few hundred submits a second. */
const LANE_PACE_MS = 10;

/** One submit of the steady stream: when it was sent and answered, and what came back. */
interface Submit {
  sentAt: number;
  answeredAt: number;
  answer?: JsonResponse;
  error?: string;
}

// Redis Sentinel: a master, a replica and three sentinels, real processes. A steady stream
// of submits runs while workers consume; the master is SIGKILLed mid-stream. The apps must
// follow the promoted replica by themselves, and with REDIS_MIN_REPLICAS_ACK=1 every job
// that got a 202 must complete: a 202 means the replica had it before the master died.
describe('on Redis Sentinel, through the failover of a killed master', () => {
  let sentinel: TestRedisSentinel;
  let api: AppProcess;
  let workers: AppProcess[];

  beforeAll(async () => {
    sentinel = await startRedisSentinel({ downAfterMs: 2000 });
    const redisEnv = { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_MASTER: sentinel.masterName };
    // A short lock, so that a job whose attempt was under way on the dead master runs again soon.
    const env = { REDIS_MIN_REPLICAS_ACK: '1', WORKER_LOCK_DURATION_MS: '2000', RATE_LIMIT_SUBMITS_PER_MINUTE: '0' };
    [api, ...workers] = await Promise.all([startApi(redisEnv, env), startWorker(redisEnv, env), startWorker(redisEnv, env)]);
  });
  afterAll(async () => {
    await Promise.all([api, ...(workers ?? [])].map((app) => app?.stop()));
    await sentinel?.close();
  });

  it('answers 503 during the failover, then 202 again, and completes every job it acknowledged', async () => {
    const submits: Submit[] = [];
    let streaming = true;
    const stream = async (lane: number) => {
      for (let i = 0; streaming; i++) {
        const sentAt = Date.now();
        try {
          const answer = await postJson(`${api.url}/api/jobs/reports`, { customer_id: `stream-${lane}-${i}`, delay_seconds: 0 });
          submits.push({ sentAt, answeredAt: Date.now(), answer });
        } catch (error) {
          submits.push({ sentAt, answeredAt: Date.now(), error: error instanceof Error ? error.message : String(error) });
        }
        await sleep(LANE_PACE_MS);
      }
    };
    // What the readiness probes say while the master is gone.
    const readiness = new Map<string, Set<number>>([...[api, ...workers].map((app) => [app.url, new Set<number>()] as const)]);
    let probing = false;
    const probe = async () => {
      while (probing) {
        await Promise.all(
          [...readiness].map(async ([url, seen]) => seen.add((await request(`${url}/health/ready`).catch(() => ({ status: 0 }))).status)),
        );
        await sleep(100);
      }
    };
    const accepted = (after = 0) => submits.filter((submit) => submit.answer?.status === 202 && submit.sentAt > after);
    const lanes = [0, 1, 2, 3].map(stream);

    await waitFor('the stream to run', async () => accepted().length >= 40);
    const master = await sentinel.currentMaster();
    const killedAt = Date.now();
    await master.kill();
    probing = true;
    const probing_ = probe();
    const promoted = await sentinel.awaitFailover(master);
    const promotedAt = Date.now();
    probing = false;
    await probing_;
    // The dead master comes back, as its supervisor would bring it, now a replica of the new one.
    await sentinel.restartAsReplica(master);
    await waitFor('submits to be acknowledged again', async () => accepted(promotedAt).length >= 40, { timeoutMs: 60_000 });
    streaming = false;
    await Promise.all(lanes);

    // While the master was gone, neither app claimed to be ready.
    for (const [url, seen] of readiness) expect({ url, unready: seen.has(503) }).toEqual({ url, unready: true });
    // The apps followed the new master by themselves: ready, without a restart.
    expect(promoted).not.toBe(master);
    expect((await request(`${api.url}/health/ready`)).status).toBe(200);
    for (const worker of workers) {
      await waitFor('the worker to be ready again', async () => (await request(`${worker.url}/health/ready`)).status === 200);
    }

    // Every answer was a 202 or a 503 problem with Retry-After; the API never hung or failed otherwise.
    expect(submits.filter((submit) => submit.error)).toEqual([]);
    const refused = submits.filter((submit) => submit.answer!.status !== 202);
    expect(refused.length).toBeGreaterThan(0);
    for (const { answer } of refused) {
      expect(answer!.status).toBe(503);
      expect(answer!.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer!.headers.get('retry-after')).toMatch(/^\d+$/);
      // A job Redis may have got names itself, so that the client can look before submitting again.
      if (/may have been queued/.test(answer!.body.detail as string)) expect(answer!.body.statusQueryGetUri).toEqual(expect.any(String));
    }

    // Every acknowledged job completes: none was lost with the master.
    const acknowledged = accepted().map((submit) => submit.answer!.body.statusQueryGetUri as string);
    const outcomes = new Map<string, number | string>();
    await waitFor(
      'every acknowledged job to complete',
      async () => {
        for (const url of acknowledged) {
          if (outcomes.get(url) === 'Completed') continue;
          const status = await request(url);
          outcomes.set(url, status.status === 200 ? (status.body.runtimeStatus as string) : status.status);
        }
        return [...outcomes.values()].every((outcome) => outcome === 'Completed' || outcome === 404);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const lost = acknowledged.filter((url) => outcomes.get(url) === 404);
    expect(lost).toEqual([]);

    // The 503 window, as clients saw it: from the first refused submit to the last one.
    const window = refused.at(-1)!.answeredAt - refused[0].sentAt;
    const mayExist = refused.filter(({ answer }) => /may have been queued/.test(answer!.body.detail as string)).length;
    console.log(
      `Sentinel failover with REDIS_MIN_REPLICAS_ACK=1: 503 window ${window} ms (master killed at 0, ` +
        `replica promoted at ${promotedAt - killedAt} ms); ${acknowledged.length} jobs acknowledged, ${lost.length} lost; ` +
        `${refused.length} submits refused, ${mayExist} of them "may have been queued"`,
    );
  }, 180_000);

  it('answers 503 "may have been queued" when no replica acknowledges the job in time, and 202 once one does', async () => {
    const master = await sentinel.currentMaster();
    const replica = sentinel.dataNodes.find((node) => node !== master)!;
    await replica.kill();
    const unconfirmed = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'no-replica', delay_seconds: 0 });
    expect(unconfirmed.status).toBe(503);
    expect(unconfirmed.body.detail).toMatch(/may have been queued/);
    // The master has it: the job exists and runs, but a failover now could have lost it.
    expect([200, 202]).toContain((await request(unconfirmed.body.statusQueryGetUri as string)).status);

    await sentinel.restartAsReplica(replica);
    const acknowledged = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'replica-back', delay_seconds: 0 });
    expect(acknowledged.status).toBe(202);
  });
});
