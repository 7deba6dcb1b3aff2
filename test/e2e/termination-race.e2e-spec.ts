import { startApi, startWorker, type AppProcess } from '../support/apps';
import { pollUntilDone, postJson, request, type JsonResponse } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// A cancel racing a job's own end must never rewrite its fate: a job whose work completed
// stays Completed with its output, one that failed on its own stays Failed, and the cancel
// answers 410 for both. Zero-second jobs cancelled at once make the race as tight as it gets.
describe('cancel racing a job’s own end', () => {
  const ROUNDS = 120;
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    // One attempt per job, so that a job failing on its own fails for good at once.
    [api, worker] = await Promise.all([
      startApi(redis.url, { JOB_ATTEMPTS: '1', RATE_LIMIT_SUBMITS_PER_MINUTE: '0', RATE_LIMIT_READS_PER_MINUTE: '0' }),
      startWorker(redis.url, { WORKER_CONCURRENCY: '4', SIMULATED_FAILURES: 'race-fail=*' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  interface Raced {
    id: string;
    statusUrl: string;
    cancel: JsonResponse;
    final: JsonResponse;
  }

  /** Starts a zero-second job and cancels it at once, `ROUNDS` times, a few at a time. */
  async function race(customerId: string): Promise<Raced[]> {
    const raced: Raced[] = [];
    const one = async () => {
      const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: customerId, delay_seconds: 0 });
      expect(accepted.status).toBe(202);
      const statusUrl = accepted.body.statusQueryGetUri as string;
      const cancel = await request(statusUrl, { method: 'DELETE' });
      const final = (await pollUntilDone(statusUrl, { intervalMs: 50 })).at(-1)!;
      raced.push({ id: accepted.body.instanceId as string, statusUrl, cancel, final });
    };
    for (let round = 0; round < ROUNDS; round += 4) await Promise.all([one(), one(), one(), one()]);
    return raced;
  }

  const loggedIds = (msg: string) =>
    new Set(
      worker
        .logLines()
        .filter((line) => line.msg === msg)
        .map((line) => line.instanceId as string),
    );

  it('keeps a job that completed Completed, with its output, however close the cancel came', async () => {
    const raced = await race('race-done');
    const byStatus = (status: string) => raced.filter((job) => job.final.body.runtimeStatus === status);
    // The worker logs 'Attempt completed' before it stores the result: wait until every
    // Completed job's line has arrived, so the lines of the others have too.
    await waitFor('the worker’s log lines', async () => byStatus('Completed').every((job) => loggedIds('Attempt completed').has(job.id)));
    const completedWork = loggedIds('Attempt completed');

    const rewritten = byStatus('Terminated').filter((job) => completedWork.has(job.id));
    console.log(
      `Cancel vs. completion, ${raced.length} jobs: ${byStatus('Completed').length} Completed, ` +
        `${byStatus('Terminated').length} Terminated, of which ${rewritten.length} had completed their work`,
    );
    expect(rewritten.map((job) => job.id)).toEqual([]);
    for (const job of raced) {
      expect(['Completed', 'Terminated']).toContain(job.final.body.runtimeStatus);
      if (job.final.body.runtimeStatus === 'Completed') {
        expect(job.final.body.output).toEqual({
          status: 'completed',
          instanceId: job.id,
          result: { customerId: 'race-done', operation: 'rebuild-report' },
        });
      }
      // A cancel is 202 while it can act, and 410 once the job has ended.
      expect([202, 410]).toContain(job.cancel.status);
      if (job.cancel.status === 410) expect(job.final.body.runtimeStatus).toBe('Completed');
      // The status URL answers the same thing again: nothing changes a finished job.
      expect((await request(job.statusUrl)).body.runtimeStatus).toBe(job.final.body.runtimeStatus);
    }
  });

  it('keeps a job that failed on its own Failed, however close the cancel came', async () => {
    const raced = await race('race-fail');
    const byStatus = (status: string) => raced.filter((job) => job.final.body.runtimeStatus === status);
    const failedLine = 'Attempt failed: Simulated failure of attempt 1 for race-fail';
    await waitFor('the worker’s log lines', async () => byStatus('Failed').every((job) => loggedIds(failedLine).has(job.id)));
    const failedOnItsOwn = loggedIds(failedLine);

    const rewritten = byStatus('Terminated').filter((job) => failedOnItsOwn.has(job.id));
    console.log(
      `Cancel vs. failure, ${raced.length} jobs: ${byStatus('Failed').length} Failed, ` +
        `${byStatus('Terminated').length} Terminated, of which ${rewritten.length} had failed on their own`,
    );
    expect(rewritten.map((job) => job.id)).toEqual([]);
    for (const job of raced) {
      expect(['Failed', 'Terminated']).toContain(job.final.body.runtimeStatus);
      if (job.final.body.runtimeStatus === 'Failed') {
        expect(job.final.body.output).toMatchObject({ error: { message: 'Simulated failure of attempt 1 for race-fail' } });
      }
      if (job.cancel.status === 410) expect(job.final.body.runtimeStatus).toBe('Failed');
    }
  });
});
