import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Environment } from '@report-jobs/config';
import type { JobLifecycle } from '@report-jobs/queue';
import { WorkerQueue } from '../queue/worker-queue';
import { SweepLease } from './sweep-lease';

const BATCH = 500;
/** Longest a sweep goes on batch after batch, so that a large backlog is cleared in steps. */
const SWEEP_BUDGET_MS = 2000;
/** Outlasts a sweep's budget and its last batch; frees the lease if its holder dies mid-sweep. */
const LEASE_MS = 10_000;

/**
 * Removes finished jobs once their retention has passed, on a timer (BullMQ's own
 * removeOnComplete only runs when another job happens to finish), and leaves an
 * 'expired' record in their place so their status URL answers 410 Gone rather than 404
 * for JOB_GONE_RETENTION_SECONDS. Every worker runs the timer; a lease lets one sweep at a
 * time, and each job's expiry is one idempotent script, so a sweep that overlaps another,
 * or a purge, changes nothing twice.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionSweeper.name);
  private readonly lease: SweepLease;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly workerQueue: WorkerQueue,
    private readonly env: Environment,
  ) {
    this.lease = new SweepLease(workerQueue.redis, workerQueue.home.keys.sweepLease, LEASE_MS);
  }

  /** A quarter of the shortest retention, between 250 ms and a minute. */
  get intervalMs(): number {
    const shortest = Math.min(this.env.JOB_RETENTION_COMPLETED_SECONDS, this.env.JOB_RETENTION_FAILED_SECONDS) * 1000;
    return Math.min(60_000, Math.max(250, shortest / 4));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn(`Retention sweep failed: ${error instanceof Error ? error.message : error}`))
        .finally(() => (this.sweeping = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /**
   * If no other worker is sweeping, sweeps each finished set of each shard batch after
   * batch until nothing more is due or the time budget is spent. Answers how many jobs
   * this sweep expired.
   */
  async sweep(now = Date.now()): Promise<number> {
    if (this.workerQueue.redis.status !== 'ready' || !(await this.lease.acquire())) return 0;
    let removed = 0;
    try {
      const deadline = Date.now() + SWEEP_BUDGET_MS;
      for (const { queue, lifecycle } of this.workerQueue.handles) {
        for (const [set, retentionSeconds] of [
          [queue.keys.completed, this.env.JOB_RETENTION_COMPLETED_SECONDS],
          [queue.keys.failed, this.env.JOB_RETENTION_FAILED_SECONDS],
        ] as const) {
          // Finished sets are scored by the time the job finished.
          const cutoff = now - retentionSeconds * 1000;
          removed += await this.sweepSet(set, cutoff, now, lifecycle, deadline);
        }
      }
    } finally {
      await this.lease.release();
    }
    if (removed > 0) this.logger.log(`Removed ${removed} job(s) past their retention`);
    return removed;
  }

  /**
   * Expires the jobs of one finished set that are past `cutoff`, a batch at a time. Jobs
   * past their retention that are kept (their webhook is not queued yet) stay at the head
   * of the set: each batch reads past those kept so far, so that they never hold back the
   * jobs behind them.
   */
  private async sweepSet(set: string, cutoff: number, now: number, lifecycle: JobLifecycle, deadline: number): Promise<number> {
    const { redis } = this.workerQueue;
    let expired = 0;
    let kept = 0;
    for (;;) {
      const ids = await redis.zrangebyscore(set, '-inf', cutoff, 'LIMIT', kept, BATCH);
      const batch = await lifecycle.expireBatch(ids, set, cutoff, now);
      expired += batch.expired;
      kept += batch.kept;
      if (ids.length < BATCH || Date.now() > deadline) return expired;
    }
  }
}
