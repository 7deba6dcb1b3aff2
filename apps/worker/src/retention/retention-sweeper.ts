import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Environment } from '@report-jobs/config';
import type { ReportJobData } from '@report-jobs/contract';
import { WorkerQueue } from '../queue/worker-queue';

const BATCH = 500;
/** Longest a sweep goes on batch after batch, so that a large backlog is cleared in steps. */
const SWEEP_BUDGET_MS = 2000;

/**
 * Removes finished jobs once their retention has passed, on a timer (BullMQ's own
 * removeOnComplete only runs when another job happens to finish), and leaves an
 * 'expired' record in their place so their status URL answers 410 Gone rather than 404
 * for JOB_GONE_RETENTION_SECONDS. Every worker sweeps; doing it twice is harmless.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionSweeper.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly workerQueue: WorkerQueue,
    private readonly env: Environment,
  ) {}

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

  /** Sweeps batch after batch until nothing is due or the time budget is spent. */
  async sweep(now = Date.now()): Promise<number> {
    const deadline = Date.now() + SWEEP_BUDGET_MS;
    let removed = 0;
    for (;;) {
      const batch = await this.sweepBatch(now);
      removed += batch;
      if (batch === 0 || Date.now() > deadline) break;
    }
    if (removed > 0) this.logger.log(`Removed ${removed} job(s) past their retention`);
    return removed;
  }

  /** One batch: finished jobs past retention, and terminated records past theirs. */
  private async sweepBatch(now: number): Promise<number> {
    const { queue, redis, keys } = this.workerQueue;
    if (redis.status !== 'ready') return 0;
    let removed = 0;
    for (const [set, retentionSeconds] of [
      [queue.keys.completed, this.env.JOB_RETENTION_COMPLETED_SECONDS],
      [queue.keys.failed, this.env.JOB_RETENTION_FAILED_SECONDS],
    ] as const) {
      // Finished sets are scored by the time the job finished.
      const ids = await redis.zrangebyscore(set, '-inf', now - retentionSeconds * 1000, 'LIMIT', 0, BATCH);
      if (ids.length === 0) continue;
      const data = await Promise.all(ids.map((id) => redis.hget(queue.toKey(id), 'data')));
      // A job whose hash is gone was removed by another worker's sweep, record included.
      const present = ids.filter((_, i) => data[i] !== null);
      const records = redis.multi();
      ids.forEach((id, i) => data[i] !== null && this.expire(records, id, ownerOf(data[i]), now));
      const vanished = ids.filter((_, i) => data[i] === null);
      if (vanished.length > 0) records.zrem(set, ...vanished);
      // The record goes first: a reader then sees the job, or its record, never nothing.
      await records.exec();
      await Promise.all(present.map((id) => queue.remove(id)));
      removed += ids.length;
    }
    const terminated = await redis.zrangebyscore(keys.terminated, '-inf', now, 'LIMIT', 0, BATCH);
    if (terminated.length > 0) {
      const owners = await Promise.all(terminated.map((id) => redis.hget(keys.gone(id), 'owner')));
      const records = redis.multi();
      terminated.forEach((id, i) => this.expire(records, id, owners[i] ?? undefined, now));
      records.zrem(keys.terminated, ...terminated);
      await records.exec();
      removed += terminated.length;
    }
    return removed;
  }

  private expire(records: ReturnType<WorkerQueue['redis']['multi']>, id: string, owner: string | undefined, now: number): void {
    const { keys } = this.workerQueue;
    const goneKey = keys.gone(id);
    records.del(goneKey);
    records.hset(goneKey, { kind: 'expired', at: String(now), ...(owner ? { owner } : {}) });
    records.pexpire(goneKey, this.env.JOB_GONE_RETENTION_SECONDS * 1000);
    records.zrem(keys.index, id);
    if (owner) records.zrem(keys.ownerIndex(owner), id);
  }
}

function ownerOf(rawData: string | null): string | undefined {
  try {
    return rawData ? (JSON.parse(rawData) as Partial<ReportJobData>).owner : undefined;
  } catch {
    return undefined;
  }
}
