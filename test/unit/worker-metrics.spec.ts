import { EventEmitter } from 'node:events';
import type { Job, Worker } from 'bullmq';
import { validateEnvironment } from '@report-jobs/config';
import type { ReportJobData } from '@report-jobs/contract';
import { failureOutcome, STALLED_TOO_OFTEN, WorkerMetrics } from '../../apps/worker/src/metrics/worker-metrics';
import type { WorkerQueue } from '../../apps/worker/src/queue/worker-queue';

const input = { customer_id: 'c', operation: 'rebuild-report', delay_seconds: 0 };

function job(fields: Partial<Job<ReportJobData>>): Job<ReportJobData> {
  return { data: { input, correlationId: 'r', owner: 'o' }, timestamp: 1_000, attemptsStarted: 1, ...fields } as Job<ReportJobData>;
}

/** A WorkerQueue whose Redis holds one stalled job's data, and whose queue counts are never read here. */
function fakeQueue(): WorkerQueue {
  return {
    redis: { hget: async (key: string) => (key === 'bull:reports:s1' ? JSON.stringify({ input }) : null) },
    handleOf: () => ({ queue: { toKey: (id: string) => `bull:reports:${id}` } }),
    queueCounts: () => new Promise(() => undefined),
  } as unknown as WorkerQueue;
}

async function counted(metrics: WorkerMetrics, name: string): Promise<string[]> {
  const text = await metrics.registry!.getSingleMetricAsString(name);
  return text.split('\n').filter((line) => !line.startsWith('#') && !/ 0$/.test(line));
}

describe('failureOutcome', () => {
  it.each([
    ['a retried attempt (no finishedOn)', undefined, 'Simulated failure', 'retried'],
    ['a final failure', 5_000, 'Simulated failure of attempt 3', 'failed'],
    ['a terminated running job', 5_000, 'Terminated: not needed', 'terminated'],
    ['a job failed for stalling too often', 5_000, STALLED_TOO_OFTEN, 'stalled'],
  ])('%s', (_what, finishedOn, message, outcome) => {
    expect(failureOutcome({ finishedOn }, new Error(message))).toBe(outcome);
  });
});

describe('WorkerMetrics', () => {
  it('counts attempts from the worker events, times them, and times the first wait', async () => {
    const metrics = new WorkerMetrics(validateEnvironment({}), fakeQueue());
    const worker = new EventEmitter();
    metrics.observe(worker as unknown as Worker<ReportJobData>);

    worker.emit('active', job({ processedOn: 3_000 }));
    worker.emit('active', job({ processedOn: 9_000, attemptsStarted: 2 }));
    worker.emit('completed', job({ processedOn: 3_000, finishedOn: 3_500 }));
    worker.emit('failed', job({ processedOn: 4_000 }), new Error('boom'));
    worker.emit('failed', job({ processedOn: 4_000, finishedOn: 4_250 }), new Error('boom'));
    worker.emit('failed', undefined, new Error('a job that could not be read'));
    metrics.attemptInterrupted(job({ processedOn: Date.now() }));

    expect(await counted(metrics, 'report_jobs_attempts_total')).toEqual([
      'report_jobs_attempts_total{operation="rebuild-report",outcome="completed"} 1',
      'report_jobs_attempts_total{operation="rebuild-report",outcome="failed"} 1',
      'report_jobs_attempts_total{operation="rebuild-report",outcome="retried"} 1',
      'report_jobs_attempts_total{operation="rebuild-report",outcome="interrupted"} 1',
    ]);
    // Only the first attempt's wait counts: from submission (1 s) to its start (3 s).
    const wait = await counted(metrics, 'report_jobs_job_wait_seconds');
    expect(wait).toContain('report_jobs_job_wait_seconds_count{operation="rebuild-report"} 1');
    expect(wait).toContain('report_jobs_job_wait_seconds_sum{operation="rebuild-report"} 2');
    const run = await counted(metrics, 'report_jobs_job_run_seconds');
    expect(run).toContain('report_jobs_job_run_seconds_sum{operation="rebuild-report",outcome="completed"} 0.5');
    expect(run).toContain('report_jobs_job_run_seconds_sum{operation="rebuild-report",outcome="failed"} 0.25');
  });

  it('counts a stall found by the stalled-job check under the job operation', async () => {
    const metrics = new WorkerMetrics(validateEnvironment({}), fakeQueue());
    const worker = new EventEmitter();
    metrics.observe(worker as unknown as Worker<ReportJobData>);
    worker.emit('stalled', 's1', 'active');
    worker.emit('stalled', 'gone', 'active');

    // The job's data is read back from Redis (here a fake answering at once).
    await new Promise((resolve) => setImmediate(resolve));
    expect(await counted(metrics, 'report_jobs_attempts_total')).toEqual([
      'report_jobs_attempts_total{operation="rebuild-report",outcome="stalled"} 1',
      'report_jobs_attempts_total{operation="unknown",outcome="stalled"} 1',
    ]);
  });

  it.each([{ WORKER_METRICS: 'false' }, { WORKER_HEALTH_PORT: '0' }])('creates and records nothing with %p', (env) => {
    const metrics = new WorkerMetrics(validateEnvironment(env), fakeQueue());
    const worker = new EventEmitter();
    metrics.observe(worker as unknown as Worker<ReportJobData>);
    expect(metrics.registry).toBeUndefined();
    expect(worker.listenerCount('completed')).toBe(0);
  });
});
