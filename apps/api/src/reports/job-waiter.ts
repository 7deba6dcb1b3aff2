import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import { AsyncResource } from 'node:async_hooks';
import { Environment } from '@report-jobs/config';
import { REPORTS_QUEUE } from '@report-jobs/contract';
import { createRedisClient, QueueShards, type QueueShard, type RedisClient } from '@report-jobs/queue';

/** One shard's event reader and its connection (a blocking read holds a connection of its own). */
interface ShardEvents {
  events: QueueEvents;
  connection: RedisClient;
}

/**
 * Lets requests with `Prefer: wait=N` wait for a job to finish. One QueueEvents reader
 * per shard and API process serves every waiting request, so waiting ties up no Redis
 * connection per request; a shard's reader starts with the first wait for one of its
 * jobs. Events only wake a waiter early: the answer is always read from the job itself
 * afterwards, since the event stream is best-effort.
 */
@Injectable()
export class JobWaiter implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(JobWaiter.name);
  private readonly shards: QueueShards;
  private readonly readers = new Map<number, ShardEvents>();
  private closing = false;
  private readonly waiting = new Map<string, Set<() => void>>();
  /**
   * The reader is started by the first waiting request but serves the whole process: it
   * runs in the context of the app's start, not of that request, or every event it reads
   * afterwards would be traced (and logged) as part of that long-gone request.
   */
  private readonly startOutsideRequest = AsyncResource.bind((shard: QueueShard) => this.start(shard));

  constructor(private readonly env: Environment) {
    this.shards = QueueShards.fromEnvironment(env);
  }

  /** The wait this request may have, in ms: its Prefer: wait, bounded by MAX_PREFER_WAIT_SECONDS. */
  allowedWaitMs(preferredSeconds: number | undefined): number {
    if (!preferredSeconds) return 0;
    return Math.min(preferredSeconds, this.env.MAX_PREFER_WAIT_SECONDS) * 1000;
  }

  /**
   * Resolves when the job completes or fails, or when `ms` have passed, whichever is
   * first. `hasEnded` is asked once the waiter is registered, so that a job ending just
   * before then is not waited for in vain.
   */
  async waitForEnd(instanceId: string, ms: number, hasEnded: () => Promise<boolean>): Promise<void> {
    if (ms <= 0 || this.closing) return;
    this.startOutsideRequest(this.shards.forJob(instanceId));
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        const waiters = this.waiting.get(instanceId);
        waiters?.delete(done);
        if (waiters?.size === 0) this.waiting.delete(instanceId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (!this.waiting.has(instanceId)) this.waiting.set(instanceId, new Set());
      this.waiting.get(instanceId)!.add(done);
      hasEnded().then(
        (ended) => ended && done(),
        () => undefined,
      );
    });
  }

  private start(shard: QueueShard): void {
    if (this.readers.has(shard.index)) return;
    const connection = createRedisClient(this.env, 'worker', { name: 'api-events' });
    connection.on('error', (error: Error) => this.logger.warn(`Redis connection: ${error.message}`));
    // Only events from now on matter: a finished job is seen by the read before waiting.
    const events = new QueueEvents(REPORTS_QUEUE, { connection, prefix: shard.prefix, lastEventId: '$' });
    events.on('error', (error) => this.logger.warn(`Queue events: ${error.message}`));
    const wake = ({ jobId }: { jobId: string }) => this.waiting.get(jobId)?.forEach((done) => done());
    events.on('completed', wake);
    events.on('failed', wake);
    events.on('removed', wake);
    this.readers.set(shard.index, { events, connection });
  }

  /**
   * Ends every wait before the HTTP server closes: the server waits for in-flight requests,
   * and a request holding a Prefer: wait would otherwise delay the shutdown by its wait.
   * Released requests answer at once with the job's current status.
   */
  beforeApplicationShutdown(): void {
    this.closing = true;
    for (const waiters of this.waiting.values()) waiters.forEach((done) => done());
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [...this.readers.values()].map(async ({ events, connection }) => {
        await events.close().catch(() => undefined);
        connection.disconnect();
      }),
    );
  }
}
