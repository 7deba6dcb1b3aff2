import { Gauge, type Registry } from 'prom-client';
import { COUNTED_STATES, withTimeout, type QueueCounts } from '@report-jobs/queue';

/** Scrapes within this long of a read share it, so many scrapers cost one read. */
export const QUEUE_READ_MAX_AGE_MS = 1000;

export interface QueueGaugeOptions {
  /** Reads the counts; fails or rejects when Redis cannot be read. */
  read: () => Promise<QueueCounts>;
  /** Longest a scrape waits for the read before reporting Redis as down. */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * The queue gauges, read from Redis at scrape time (both apps export them, so the queue is
 * seen as long as either runs; aggregate with max, not sum). One read feeds every gauge of
 * a scrape and is reused for QUEUE_READ_MAX_AGE_MS; at most one read is in flight, so a
 * slow Redis never piles reads up. While Redis cannot be read, report_jobs_redis_up is 0
 * and the queue gauges have no samples: no stale or made-up values.
 */
export function registerQueueGauges(registry: Registry, options: QueueGaugeOptions): void {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 1000;
  let last: { at: number; counts?: QueueCounts } | undefined;
  let inFlight: Promise<QueueCounts> | undefined;

  const refresh = async (): Promise<QueueCounts | undefined> => {
    if (last && now() - last.at < QUEUE_READ_MAX_AGE_MS) return last.counts;
    if (!inFlight) {
      inFlight = Promise.resolve()
        .then(options.read)
        .finally(() => (inFlight = undefined));
    }
    const counts = await withTimeout(inFlight, timeoutMs).catch(() => undefined);
    last = { at: now(), counts };
    return counts;
  };

  // The three gauges are collected together: the first starts the read, the others join it.
  new Gauge({
    name: 'report_jobs_queue_jobs',
    help: 'Jobs in the queue by state (the same for every replica: aggregate with max).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const read = await refresh();
      this.reset();
      if (read) for (const state of COUNTED_STATES) this.set({ state }, read.counts[state]);
    },
  });

  new Gauge({
    name: 'report_jobs_queue_oldest_waiting_age_seconds',
    help: 'How long the job next in line has waited since it was submitted; 0 when nothing waits.',
    registers: [registry],
    async collect() {
      const read = await refresh();
      if (!read) return this.remove();
      const since = read.oldestWaitingSince;
      this.set(since === undefined ? 0 : Math.max(0, (now() - since) / 1000));
    },
  });

  new Gauge({
    name: 'report_jobs_redis_up',
    help: '1 when this process could read the queue from Redis at the last scrape, else 0.',
    registers: [registry],
    async collect() {
      this.set((await refresh()) ? 1 : 0);
    },
  });
}
