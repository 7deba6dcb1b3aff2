import { setTimeout as sleep } from 'node:timers/promises';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { fetchApi, pollUntilDone, postJson, request, type JsonResponse } from '../support/http';
import { describeWithOwnRedis, startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// Faults, with real processes: a worker killed mid-job, Redis crashing and coming back
// from its append-only file, a worker stopped with SIGTERM mid-job. Every job the API
// acknowledged with 202 must end Completed: none lost, none failed by the fault.
// They stop and restart Redis, so they need their own redis-server.
describeWithOwnRedis('faults', () => {
  let redis: TestRedis;
  let api: AppProcess;
  const workers: AppProcess[] = [];
  const tally: Array<{ fault: string; submitted: number; completed: number; lost: number }> = [];

  beforeAll(async () => {
    // Fsynced on every write, as in docker-compose.yml.
    redis = await startTestRedis({ appendOnly: true });
    api = await startApi(redis.url, { ALLOW_ANONYMOUS: 'true' });
  });
  afterAll(async () => {
    await Promise.all([api, ...workers].map((app) => app?.stop('SIGKILL')));
    await redis?.close();
    if (tally.length > 0) {
      const lines = tally.map((t) => `  ${t.fault}: submitted ${t.submitted}, completed ${t.completed}, lost ${t.lost}`);
      console.log(`Fault tests, jobs per fault:\n${lines.join('\n')}`);
    }
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop('SIGKILL')));
  });

  const worker = async (env: Record<string, string> = {}) => {
    const started = await startWorker(redis.url, env);
    workers.push(started);
    return started;
  };
  const submit = async (body: object) => {
    const accepted = await postJson(`${api.url}/api/jobs/reports`, body);
    expect(accepted.status).toBe(202);
    return { id: accepted.body.instanceId as string, statusUrl: accepted.body.statusQueryGetUri as string };
  };
  /** The final answer of every job, and the count of those that did not complete. */
  const settle = async (fault: string, jobs: Array<{ statusUrl: string }>, timeoutMs = 40_000) => {
    const finals = await Promise.all(
      jobs.map(async (job) => (await pollUntilDone(job.statusUrl, { intervalMs: 250, timeoutMs })).at(-1)!),
    );
    const completed = finals.filter((final) => final.status === 200 && final.body.runtimeStatus === 'Completed').length;
    tally.push({ fault, submitted: jobs.length, completed, lost: jobs.length - completed });
    return finals;
  };
  /** Log lines of one kind, e.g. 'Attempt started', with the instance id and epoch ms. */
  const logged = (app: AppProcess, msg: string) =>
    app
      .logLines()
      .filter((line) => line.msg === msg)
      .map((line) => ({ id: line.instanceId as string, attempt: line.attempt as number, time: line.time as number }));
  const jobHash = (id: string) => redis.client().hgetall(`bull:reports:${id}`);

  it('finishes the jobs of a worker killed with SIGKILL on another worker, once their locks expire', async () => {
    const fastLocks = { WORKER_LOCK_DURATION_MS: '2000', WORKER_CONCURRENCY: '4' };
    const [doomed, survivor] = await Promise.all([worker(fastLocks), worker(fastLocks)]);

    const jobs = [];
    for (let i = 0; i < 20; i++) jobs.push(await submit({ customer_id: `kill-${i}`, delay_seconds: 1 + (i % 2) }));
    const firstStart = await waitFor('the doomed worker to start a job', async () => logged(doomed, 'Attempt started')[0]);
    await sleep(Math.max(0, firstStart.time + 300 - Date.now()));
    const killedAt = Date.now();
    expect(await doomed.stop('SIGKILL')).toBeNull();

    // Jobs it had started well under a second before: none of them can have finished.
    const done = new Set(logged(doomed, 'Attempt completed').map((line) => line.id));
    const interrupted = logged(doomed, 'Attempt started')
      .filter((line) => !done.has(line.id) && killedAt - line.time < 700)
      .map((line) => line.id);
    expect(interrupted.length).toBeGreaterThan(0);

    const finals = await settle('worker killed (SIGKILL) mid-job', jobs);
    for (const final of finals) expect(final.body).toMatchObject({ runtimeStatus: 'Completed' });
    for (const id of interrupted) {
      const final = finals[jobs.findIndex((job) => job.id === id)];
      // `attempt` counts attempts started: the killed one, then the one that completed.
      expect(final.body).toMatchObject({ runtimeStatus: 'Completed', attempt: 2, maxAttempts: 3 });
      expect(final.body).not.toHaveProperty('lastError');
      await survivor.settledLogLines();
      expect(logged(survivor, 'Attempt started')).toContainEqual(expect.objectContaining({ id, attempt: 2 }));
      // BullMQ counts it as a stalled job, not as a failed attempt.
      expect(await jobHash(id)).toMatchObject({ stc: '1', atm: '1' });
    }
  });

  it('runs a crashed worker’s job on another worker at the default lock settings', async () => {
    // WORKER_LOCK_DURATION_MS left at its default: recovery is bounded by 1.5 times it.
    const doomed = await worker();
    const job = await submit({ customer_id: 'kill-defaults', delay_seconds: 3 });
    await waitFor('the doomed worker to start the job', async () => logged(doomed, 'Attempt started').some((line) => line.id === job.id));
    const survivor = await worker();
    await doomed.stop('SIGKILL');

    const [final] = await settle('worker killed (SIGKILL), default lock settings', [job]);
    expect(final.body).toMatchObject({ runtimeStatus: 'Completed', attempt: 2 });
    await survivor.settledLogLines();
    expect(logged(survivor, 'Attempt completed').map((line) => line.id)).toEqual([job.id]);
    expect(await jobHash(job.id)).toMatchObject({ stc: '1', atm: '1' });
  });

  /** Starts the job on a fresh worker, then kills that worker with SIGKILL, `crashes` times over. */
  const crashRepeatedly = async (job: { id: string }, crashes: number, env: Record<string, string>) => {
    for (let crash = 1; crash <= crashes; crash++) {
      const holder = await worker(env);
      await waitFor(`attempt ${crash} to start`, async () => logged(holder, 'Attempt started').some((line) => line.id === job.id && line.attempt === crash));
      await holder.stop('SIGKILL');
    }
  };

  it('spends the job’s own attempts on crashes: two crashes of three attempts still complete', async () => {
    const fastLocks = { WORKER_LOCK_DURATION_MS: '2000' };
    // Longer than the lock: a handler that keeps the event loop free is never taken for crashed.
    const job = await submit({ customer_id: 'crash-twice', delay_seconds: 4 });
    await crashRepeatedly(job, 2, fastLocks);
    const last = await worker(fastLocks);

    const [final] = await settle('worker killed twice (SIGKILL), 3 attempts', [job]);
    expect(final.body).toMatchObject({ runtimeStatus: 'Completed', attempt: 3, maxAttempts: 3 });
    await last.settledLogLines();
    expect(logged(last, 'Attempt completed').map((line) => line.id)).toEqual([job.id]);
    expect(await jobHash(job.id)).toMatchObject({ stc: '2', atm: '1' });
  });

  it('fails a job whose attempts were all lost to crashes, saying so', async () => {
    const fastLocks = { WORKER_LOCK_DURATION_MS: '2000' };
    const twoAttempts = await startApi(redis.url, { JOB_ATTEMPTS: '2' });
    workers.push(twoAttempts);
    const accepted = await postJson(`${twoAttempts.url}/api/jobs/reports`, { customer_id: 'crash-out', delay_seconds: 4 });
    const job = { id: accepted.body.instanceId as string, statusUrl: accepted.body.statusQueryGetUri as string };
    await crashRepeatedly(job, 2, fastLocks);
    const last = await worker(fastLocks);

    const final = (await pollUntilDone(job.statusUrl, { intervalMs: 250, timeoutMs: 40_000 })).at(-1)!;
    expect(final.body).toMatchObject({
      runtimeStatus: 'Failed',
      maxAttempts: 2,
      output: {
        error: {
          message:
            'Attempts used up by crashes: the worker running the job stopped without finishing it 2 time(s), ' +
            'and 0 attempt(s) failed, of 2 allowed',
        },
      },
    });
    // It was not run a third time.
    await last.settledLogLines();
    expect(logged(last, 'Attempt completed')).toEqual([]);
  });

  it('honours a termination requested while the worker running the job was dead', async () => {
    const fastLocks = { WORKER_LOCK_DURATION_MS: '2000' };
    const doomed = await worker(fastLocks);
    const job = await submit({ customer_id: 'cancel-orphan', delay_seconds: 10 });
    await waitFor('the job to run', async () => logged(doomed, 'Attempt started').some((line) => line.id === job.id));
    await doomed.stop('SIGKILL');

    // No worker hears this request; the job must still end Terminated, not run again.
    const cancel = await request(`${job.statusUrl}/terminate?reason=orphaned`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    const rescuer = await worker(fastLocks);
    const final = (await pollUntilDone(job.statusUrl, { intervalMs: 250, timeoutMs: 40_000 })).at(-1)!;
    expect(final.body).toMatchObject({ runtimeStatus: 'Terminated', output: { status: 'terminated', reason: 'orphaned' } });
    expect(logged(rescuer, 'Attempt completed').map((line) => line.id)).not.toContain(job.id);
  });

  it('completes every acknowledged job across a Redis crash and restart from its append-only file', async () => {
    const runner = await worker({ WORKER_CONCURRENCY: '3' });

    const jobs = [];
    for (let i = 0; i < 15; i++) jobs.push(await submit({ customer_id: `aof-${i}`, delay_seconds: 1 + (i % 2) }));
    await waitFor('jobs to be running', async () => logged(runner, 'Attempt started').length >= 3);
    const before = await redis.client().llen('bull:reports:wait');
    expect(before).toBeGreaterThan(0); // some jobs are queued, some running

    await redis.stop(); // SIGKILL: a crash
    const duringOutage = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'aof-outage', delay_seconds: 0 });
    expect(duringOutage.status).toBe(503); // not acknowledged, so not counted
    await sleep(500);
    await redis.start();
    await waitFor('the API to be ready again', async () => (await fetchApi(`${api.url}/health/ready`)).status === 200);
    for (let i = 15; i < 20; i++) jobs.push(await submit({ customer_id: `aof-${i}`, delay_seconds: 1 }));

    const finals = await settle('Redis crash and restart (AOF)', jobs);
    for (const final of finals) expect(final.body).toMatchObject({ runtimeStatus: 'Completed' });
  });

  it('hands a job still running after the grace period back to the queue on SIGTERM, and exits 0', async () => {
    const grace = 1000;
    const leaving = await worker({ WORKER_SHUTDOWN_GRACE_MS: String(grace), WORKER_CONCURRENCY: '1' });
    const job = await submit({ customer_id: 'sigterm-long', delay_seconds: 4 });
    await waitFor('the leaving worker to start the job', async () =>
      logged(leaving, 'Attempt started').some((line) => line.id === job.id),
    );
    const staying = await worker();

    const signalledAt = Date.now();
    const exitCode = await leaving.stop('SIGTERM');
    const shutdownMs = Date.now() - signalledAt;
    expect(exitCode).toBe(0);
    expect(shutdownMs).toBeGreaterThanOrEqual(grace);
    expect(shutdownMs).toBeLessThan(grace + 1500);
    expect(logged(leaving, 'Attempt completed')).toHaveLength(0);
    expect(logged(leaving, 'Attempt interrupted by shutdown; the job is back in the queue for another worker')).toEqual([
      expect.objectContaining({ id: job.id }),
    ]);

    const answers: JsonResponse[] = await pollUntilDone(job.statusUrl, { intervalMs: 100 });
    const [final] = (await settle('worker stopped (SIGTERM), grace exceeded', [job])).slice(-1);
    // Back in the queue as it was: no failed attempt, no error, no retry delay.
    for (const answer of answers) {
      expect(answer.body).not.toHaveProperty('lastError');
      expect(answer.body).not.toHaveProperty('nextRetryTime');
    }
    expect(final.body).toMatchObject({ runtimeStatus: 'Completed', attempt: 2, maxAttempts: 3 });
    expect(logged(staying, 'Attempt started')).toEqual([expect.objectContaining({ id: job.id, attempt: 2 })]);
    const hash = await jobHash(job.id);
    expect(hash.atm).toBe('1'); // attempts made: only the one that completed
    expect(hash.stc ?? '0').toBe('0'); // handed back, not left to stall
  });

  it('lets a job finish within the grace period on SIGTERM and takes no new job meanwhile', async () => {
    const leaving = await worker({ WORKER_SHUTDOWN_GRACE_MS: '10000' });
    const job = await submit({ customer_id: 'sigterm-short', delay_seconds: 2 });
    await waitFor('the worker to start the job', async () =>
      logged(leaving, 'Attempt started').some((line) => line.id === job.id),
    );

    const signalledAt = Date.now();
    const exited = leaving.stop('SIGTERM');
    await sleep(200);
    const late = await submit({ customer_id: 'sigterm-late', delay_seconds: 0 });
    const exitCode = await exited;
    expect(exitCode).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);

    const [final] = await settle('worker stopped (SIGTERM), job within grace', [job]);
    expect(final.body).toMatchObject({ runtimeStatus: 'Completed', attempt: 1 });
    expect(logged(leaving, 'Attempt completed').map((line) => line.id)).toEqual([job.id]);
    // The job queued after SIGTERM waited for another worker.
    expect((await request(late.statusUrl)).body).toMatchObject({ runtimeStatus: 'Pending' });
    await worker();
    const [lateFinal] = await settle('job queued during a SIGTERM shutdown', [late]);
    expect(lateFinal.body).toMatchObject({ runtimeStatus: 'Completed', attempt: 1 });
  });
});
