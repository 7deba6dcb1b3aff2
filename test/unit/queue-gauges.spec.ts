import { Registry } from 'prom-client';
import { QUEUE_READ_MAX_AGE_MS, registerQueueGauges } from '@report-jobs/metrics';
import type { QueueCounts } from '@report-jobs/queue';

const COUNTS: QueueCounts = {
  counts: { waiting: 4, prioritized: 1, delayed: 2, active: 3, completed: 10, failed: 5 },
  oldestWaitingSince: 1_000_000,
};

/** Sample values of one family in Prometheus' text format, keyed by their label text. */
async function samples(registry: Registry, name: string): Promise<Record<string, number>> {
  const text = await registry.metrics();
  const found: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) found[match[1] ?? ''] = Number(match[2]);
  }
  return found;
}

describe('queue gauges', () => {
  let clock: number;
  const now = () => clock;
  beforeEach(() => (clock = 1_030_000));

  it('exports the counts by state, the age of the next job in line, and Redis as up', async () => {
    const registry = new Registry();
    registerQueueGauges(registry, { read: async () => COUNTS, now });

    expect(await samples(registry, 'report_jobs_queue_jobs')).toEqual({
      '{state="waiting"}': 4,
      '{state="prioritized"}': 1,
      '{state="delayed"}': 2,
      '{state="active"}': 3,
      '{state="completed"}': 10,
      '{state="failed"}': 5,
    });
    expect(await samples(registry, 'report_jobs_queue_oldest_waiting_age_seconds')).toEqual({ '': 30 });
    expect(await samples(registry, 'report_jobs_redis_up')).toEqual({ '': 1 });
  });

  it('reads 0 for the age when nothing waits', async () => {
    const registry = new Registry();
    registerQueueGauges(registry, { read: async () => ({ counts: COUNTS.counts }), now });
    expect(await samples(registry, 'report_jobs_queue_oldest_waiting_age_seconds')).toEqual({ '': 0 });
  });

  it('reads Redis once per scrape, and once for every scrape within the cache time', async () => {
    const read = jest.fn(async () => COUNTS);
    const registry = new Registry();
    registerQueueGauges(registry, { read, now });

    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    expect(read).toHaveBeenCalledTimes(1);
    clock += QUEUE_READ_MAX_AGE_MS - 1;
    await registry.metrics();
    expect(read).toHaveBeenCalledTimes(1);
    clock += 1;
    await registry.metrics();
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('shows Redis as down and no made-up queue values when the read fails', async () => {
    let fail = false;
    const registry = new Registry();
    registerQueueGauges(registry, { read: async () => (fail ? Promise.reject(new Error('ECONNREFUSED')) : COUNTS), now });
    await registry.metrics();

    fail = true;
    clock += QUEUE_READ_MAX_AGE_MS;
    expect(await samples(registry, 'report_jobs_redis_up')).toEqual({ '': 0 });
    expect(await samples(registry, 'report_jobs_queue_jobs')).toEqual({});
    expect(await samples(registry, 'report_jobs_queue_oldest_waiting_age_seconds')).toEqual({});
  });

  it('answers a scrape when Redis hangs, and never stacks a second read on a pending one', async () => {
    const read = jest.fn(() => new Promise<QueueCounts>(() => undefined));
    const registry = new Registry();
    registerQueueGauges(registry, { read, now, timeoutMs: 20 });

    expect(await samples(registry, 'report_jobs_redis_up')).toEqual({ '': 0 });
    clock += QUEUE_READ_MAX_AGE_MS;
    expect(await samples(registry, 'report_jobs_redis_up')).toEqual({ '': 0 });
    expect(read).toHaveBeenCalledTimes(1);
  });
});
