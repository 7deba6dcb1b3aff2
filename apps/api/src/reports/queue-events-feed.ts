import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import { Environment } from '@report-jobs/config';
import { REPORTS_QUEUE } from '@report-jobs/contract';
import { createRedisClient, QueueShards, type QueueShard, type RedisClient } from '@report-jobs/queue';

/** The queue events that say a job changed: its state, its attempt or its progress. */
export const JOB_CHANGE_EVENTS = [
  'active',
  'progress',
  'completed',
  'failed',
  'delayed',
  'waiting',
  'stalled',
  'retries-exhausted',
  'removed',
] as const;
export type JobChangeEvent = (typeof JOB_CHANGE_EVENTS)[number];

export type JobChangeListener = (event: JobChangeEvent) => void;

/** The reader of one shard's event stream: a blocking read holds a connection of its own. */
interface ShardReader {
  shard: QueueShard;
  live: Promise<void>;
  markLive: () => void;
  connection?: RedisClient;
  events?: QueueEvents;
}

/**
 * The API process's readers of the queue's event streams, one per shard, shared by
 * everything that waits on jobs (Prefer: wait, event streams): one Redis connection per
 * shard and process, however many requests listen. Events are hints only, since the
 * stream is trimmed and reading it is best-effort: listeners read the job itself when woken.
 *
 * Each reader starts with the app, from its stream's last entry at that moment rather than
 * from "$" (whatever comes after the read is issued): with "$", an event added between a
 * listener's check of its job and the reader's first read was never seen, and the first
 * Prefer: wait after a start could wait out its whole time. `whenLive(jobId)` says when
 * every event of that job's shard from then on will be read.
 */
@Injectable()
export class QueueEventsFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(QueueEventsFeed.name);
  private readonly listeners = new Map<string, Set<JobChangeListener>>();
  private readonly shards: QueueShards;
  /** One per shard, in shard order. */
  private readonly readers: ShardReader[];
  private closed = false;

  constructor(private readonly env: Environment) {
    this.shards = QueueShards.fromEnvironment(env);
    this.readers = this.shards.all.map((shard) => {
      let markLive!: () => void;
      const live = new Promise<void>((resolve) => (markLive = resolve));
      return { shard, live, markLive };
    });
  }

  /**
   * Starts reading in the app's own async context, never a request's: every event read
   * would otherwise be traced and logged as part of that request. Not awaited, so that an
   * API whose Redis is down still starts (and says so on its readiness probe).
   */
  onApplicationBootstrap(): void {
    for (const reader of this.readers) {
      this.start(reader).catch((error: unknown) => {
        // A shutdown while Redis was still out of reach ends the wait for it: no fault.
        if (!this.closed) this.logger.error(`Queue events reader of ${reader.shard.prefix} failed to start: ${String(error)}`);
      });
    }
  }

  /** Resolves once every event added to the stream of this job's shard from now on will reach the listeners. */
  whenLive(jobId: string): Promise<void> {
    return this.readers[this.shards.forJob(jobId).index].live;
  }

  /** Calls `listener` on every change event of the job until the returned function is called. */
  subscribe(jobId: string, listener: JobChangeListener): () => void {
    let listeners = this.listeners.get(jobId);
    if (!listeners) this.listeners.set(jobId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.listeners.get(jobId) === listeners) this.listeners.delete(jobId);
    };
  }

  private async start(reader: ShardReader): Promise<void> {
    const { shard } = reader;
    const connection = createRedisClient(this.env, 'worker', { name: 'api-events' });
    connection.on('error', (error: Error) => this.logger.warn(`Redis connection: ${error.message}`));
    reader.connection = connection;
    // Waits for Redis if it is down (the connection queues the command until it is up).
    const startId = await this.lastEntryId(connection, shard);
    if (this.closed) return;
    const events = new QueueEvents(REPORTS_QUEUE, { connection, prefix: shard.prefix, lastEventId: startId });
    events.on('error', (error) => this.logger.warn(`Queue events: ${error.message}`));
    for (const event of JOB_CHANGE_EVENTS) {
      events.on(event, ({ jobId }: { jobId?: string }) => {
        if (jobId) this.listeners.get(jobId)?.forEach((listener) => listener(event));
      });
    }
    reader.events = events;
    reader.markLive();
  }

  /** The id of the shard's stream's newest entry ('0-0' when it has none): the reader goes on from there. */
  private async lastEntryId(connection: RedisClient, shard: QueueShard): Promise<string> {
    const newest = await connection.xrevrange(shard.toKey('events'), '+', '-', 'COUNT', 1);
    return newest[0]?.[0] ?? '0-0';
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.readers.map(async ({ events, connection }) => {
        await events?.close().catch(() => undefined);
        connection?.disconnect();
      }),
    );
  }
}
