import { randomUUID } from 'node:crypto';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { pollUntilDone, postJson, request } from '../support/http';
import { scrape, valueOf, type Sample } from '../support/metrics';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// The metrics of the real apps, scraped as Prometheus does, while real jobs run.
describe('Prometheus metrics', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let apiMetrics: string;
  let workerMetrics: string;
  const jobs = () => `${api.url}/api/jobs/reports`;
  const attempts = (samples: Sample[], outcome: string) =>
    valueOf(samples, 'report_jobs_attempts_total', { operation: 'rebuild-report', outcome }) ?? 0;

  beforeAll(async () => {
    redis = await startTestRedis();
    const jobPolicy = { JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '100' };
    [api, worker] = await Promise.all([
      startApi(redis.url, jobPolicy),
      // One job at a time, so that jobs queue up behind a long one.
      startWorker(redis.url, { ...jobPolicy, WORKER_CONCURRENCY: '1', SIMULATED_FAILURES: 'cust-flaky=1,cust-broken=*' }),
    ]);
    apiMetrics = api.metricsUrl;
    workerMetrics = worker.metricsUrl;
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  it('serves the API metrics on METRICS_PORT without a key, and nothing on the public port', async () => {
    const response = await fetch(apiMetrics);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const names = new Set((await scrape(apiMetrics)).map((sample) => sample.name));
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(names).toContain(name);
    }
    expect((await request(`${api.url}/metrics`)).status).toBe(404);
  });

  it('times requests by route template and status, never by raw path', async () => {
    const id = randomUUID();
    expect((await request(`${jobs()}/${id}`)).status).toBe(404);
    expect((await request(`${api.url}/no/such/${id}`)).status).toBe(404);
    const samples = await scrape(apiMetrics);
    const count = (labels: Record<string, string>) => valueOf(samples, 'http_request_duration_seconds_count', labels);
    expect(count({ method: 'GET', route: '/api/jobs/reports/:instanceId', status_code: '404' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
    expect(samples.filter((sample) => Object.values(sample.labels).some((value) => value.includes(id)))).toEqual([]);
  });

  it('counts new jobs only: concurrent repeats of an Idempotency-Key count once', async () => {
    const submitted = async () => valueOf(await scrape(apiMetrics), 'report_jobs_submitted_total', { operation: 'rebuild-report' })!;
    const before = await submitted();
    // Repeats of one request, as a client retrying it would send them: same key, same request id.
    const headers = { 'idempotency-key': randomUUID(), 'x-request-id': 'one-request' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => postJson(jobs(), { customer_id: 'cust-idem', delay_seconds: 0 }, headers)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(202));
    expect(new Set(answers.map((answer) => answer.body.instanceId)).size).toBe(1);
    expect((await postJson(jobs(), { customer_id: 'cust-plain', delay_seconds: 0 })).status).toBe(202);
    expect(await submitted()).toBe(before + 2);
  });

  it('counts attempts by outcome on the worker, with their run times and the first wait', async () => {
    const before = await scrape(workerMetrics);
    const run = async (customer: string) => {
      const accepted = await postJson(jobs(), { customer_id: customer, delay_seconds: 0 });
      return (await pollUntilDone(accepted.body.statusQueryGetUri as string)).at(-1)!.body.runtimeStatus;
    };
    expect(await run('cust-ok')).toBe('Completed');
    expect(await run('cust-flaky')).toBe('Completed');
    expect(await run('cust-broken')).toBe('Failed');

    const after = await waitFor('the worker to count the attempts', async () => {
      const samples = await scrape(workerMetrics);
      return attempts(samples, 'failed') > attempts(before, 'failed') ? samples : undefined;
    });
    expect(attempts(after, 'completed') - attempts(before, 'completed')).toBe(2);
    expect(attempts(after, 'retried') - attempts(before, 'retried')).toBe(2);
    expect(attempts(after, 'failed') - attempts(before, 'failed')).toBe(1);
    const runs = (samples: Sample[], outcome: string) =>
      valueOf(samples, 'report_jobs_job_run_seconds_count', { operation: 'rebuild-report', outcome }) ?? 0;
    expect(runs(after, 'completed') - runs(before, 'completed')).toBe(2);
    expect(runs(after, 'retried') - runs(before, 'retried')).toBe(2);
    const waits = (samples: Sample[]) => valueOf(samples, 'report_jobs_job_wait_seconds_count', { operation: 'rebuild-report' })!;
    expect(waits(after) - waits(before)).toBe(3);
  });

  it('counts a running job a client terminates as terminated', async () => {
    const before = attempts(await scrape(workerMetrics), 'terminated');
    const accepted = await postJson(jobs(), { customer_id: 'cust-stop', delay_seconds: 30 });
    const statusUrl = accepted.body.statusQueryGetUri as string;
    await waitFor('the job to run', async () => (await request(statusUrl)).body.runtimeStatus === 'Running');
    expect((await request(`${statusUrl}/terminate?reason=test`, { method: 'POST' })).status).toBe(202);
    await waitFor('the worker to count the termination', async () => attempts(await scrape(workerMetrics), 'terminated') === before + 1);
  });

  it('shows the queue from both apps: jobs by state and how long the next in line has waited', async () => {
    // The worker runs one job at a time: a long job holds it while three more wait.
    const started = Date.now();
    const submit = async (delay: number) => (await postJson(jobs(), { customer_id: 'cust-queue', delay_seconds: delay })).body.statusQueryGetUri as string;
    const long = await submit(30);
    await waitFor('the long job to run', async () => (await request(long)).body.runtimeStatus === 'Running');
    const queued = [await submit(0), await submit(0), await submit(0)];

    for (const url of [apiMetrics, workerMetrics]) {
      const samples = await waitFor(`${url} to show three waiting jobs`, async () => {
        const found = await scrape(url);
        return valueOf(found, 'report_jobs_queue_jobs', { state: 'waiting' }) === 3 ? found : undefined;
      });
      expect(valueOf(samples, 'report_jobs_queue_jobs', { state: 'active' })).toBe(1);
      expect(valueOf(samples, 'report_jobs_queue_jobs', { state: 'failed' })).toBeGreaterThanOrEqual(1);
      const age = valueOf(samples, 'report_jobs_queue_oldest_waiting_age_seconds')!;
      expect(age).toBeGreaterThan(0);
      expect(age).toBeLessThanOrEqual((Date.now() - started) / 1000);
      expect(valueOf(samples, 'report_jobs_redis_up')).toBe(1);
    }

    for (const url of [...queued, long]) expect((await request(`${url}/terminate`, { method: 'POST' })).status).toBe(202);
    await waitFor('the queue to be empty', async () => {
      const samples = await scrape(apiMetrics);
      return (
        valueOf(samples, 'report_jobs_queue_jobs', { state: 'waiting' }) === 0 &&
        valueOf(samples, 'report_jobs_queue_jobs', { state: 'active' }) === 0 &&
        valueOf(samples, 'report_jobs_queue_oldest_waiting_age_seconds') === 0
      );
    });
  });

  it('serves no metrics from a worker with WORKER_METRICS=false', async () => {
    const quiet = await startWorker(redis.url, { WORKER_METRICS: 'false' });
    try {
      expect((await request(`${quiet.url}/health/ready`)).status).toBe(200);
      expect((await fetch(`${quiet.url}/metrics`)).status).toBe(404);
    } finally {
      await quiet.stop();
    }
  });

  it('says Redis is down, and answers at once, while Redis is stopped', async () => {
    if (!redis.owned) return; // cannot stop a shared Redis
    await redis.stop();
    try {
      for (const url of [apiMetrics, workerMetrics]) {
        // Every scrape still answers (within scrape's 3 s limit); the last read may be reused for a second.
        const samples = await waitFor(`${url} to show Redis down`, async () => {
          const found = await scrape(url);
          return valueOf(found, 'report_jobs_redis_up') === 0 ? found : undefined;
        });
        expect(samples.filter((sample) => sample.name.startsWith('report_jobs_queue_'))).toEqual([]);
      }
    } finally {
      await redis.start();
    }
    await waitFor('Redis to be seen again', async () => valueOf(await scrape(apiMetrics), 'report_jobs_redis_up') === 1);
  });
});
