import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Environment } from '@report-jobs/config';
import { withTimeout } from '@report-jobs/queue';
import type { Caller } from '../http/caller';
import { ProblemException } from '../http/problem-details';
import { EventStream } from './event-stream';
import { compareVersions, parseVersion } from './job-version';
import { JobWatch } from './job-watch';
import { QueueEventsFeed } from './queue-events-feed';
import { ReportJobsService } from './report-jobs.service';

/** Retry-After of a 429 for too many open streams: streams end when their jobs do, at no known time. */
export const STREAM_CAP_RETRY_AFTER_SECONDS = 5;

/**
 * Longest a new stream waits for its shard's events reader to be live before its first
 * read (only right after the API starts, or while Redis is away): a change before that
 * would reach the stream only with the next heartbeat. Past it the stream starts anyway,
 * and the heartbeat's re-read heals what the reader missed.
 */
export const FEED_LIVE_WAIT_MS = 2_000;

/**
 * Reads of followed jobs. Access was checked when each stream opened, under its caller,
 * and a job's owner never changes.
 */
const STREAM_READER: Caller = { principal: 'event-streams', admin: true };

/**
 * The API process's event streams of jobs (GET …/{instanceId}/events). Streams of one job
 * share one watch (one read per change, whatever their number); all are fed by the
 * process's queue events readers (one per shard), so a stream costs no Redis connection. Each principal
 * may hold SSE_MAX_STREAMS_PER_PRINCIPAL streams open on this process. Every
 * SSE_HEARTBEAT_SECONDS each stream gets a heartbeat and each followed job is read again,
 * which heals a lost queue event. On shutdown every stream ends at once.
 */
@Injectable()
export class JobEventStreams implements OnModuleInit, BeforeApplicationShutdown {
  private readonly watches = new Map<string, JobWatch>();
  private readonly openPerPrincipal = new Map<string, number>();
  private heartbeat?: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly env: Environment,
    private readonly jobs: ReportJobsService,
    private readonly feed: QueueEventsFeed,
  ) {}

  onModuleInit(): void {
    this.heartbeat = setInterval(() => this.beat(), this.env.SSE_HEARTBEAT_SECONDS * 1000);
    this.heartbeat.unref();
  }

  /** Streams open on this process, for the caller's principal or in all. */
  openStreams(principal?: string): number {
    if (principal !== undefined) return this.openPerPrincipal.get(principal) ?? 0;
    let total = 0;
    for (const count of this.openPerPrincipal.values()) total += count;
    return total;
  }

  /**
   * Answers the request with the job's event stream: the current status at once (unless
   * the client's Last-Event-ID is as new), then one event per change, the final status
   * last. A job that has ended and whose final event the client has: 204, nothing more to
   * come. Unknown, another principal's (404) or gone (410): a problem, before any stream.
   */
  async open(instanceId: string, caller: Caller, lastEventId: string | undefined, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (this.closing) throw new ProblemException(503, 'The API is shutting down; connect again.').withHeaders({ 'retry-after': '1' });
    const { watch, release } = this.hold(instanceId, caller.principal);
    try {
      // Read only once every later change of the job will be announced, as Prefer: wait does.
      await withTimeout(this.feed.whenLive(instanceId), FEED_LIVE_WAIT_MS).catch(() => undefined);
      const announced = watch.changesAnnounced;
      const status = await this.jobs.status(instanceId, caller);
      const after = parseVersion(lastEventId);
      if (!status.mapping.inProgress && after && compareVersions(status.version, after) <= 0) {
        release();
        reply.status(204).send();
        return;
      }
      const stream = new EventStream(reply, request, after);
      stream.onClose(() => {
        watch.streams.delete(stream);
        release();
      });
      stream.start();
      stream.offer(status);
      // The client may have left during the first read; the shutdown may have begun.
      if (!stream.open || this.closing) {
        stream.end(this.closing);
        release();
        return;
      }
      watch.streams.add(stream);
      // A change announced during the first read may not be in it.
      if (watch.changesAnnounced !== announced) watch.refresh();
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Counts a stream of the principal's (refused with 429 past the cap, in the same step)
   * and holds the job's watch, listening to the job before its first read. `release` may
   * be called more than once.
   */
  private hold(instanceId: string, principal: string): { watch: JobWatch; release: () => void } {
    const open = this.openStreams(principal);
    const cap = this.env.SSE_MAX_STREAMS_PER_PRINCIPAL;
    if (open >= cap) {
      throw new ProblemException(429, `Too many open event streams: at most ${cap} per principal. Close one, or try again after Retry-After.`).withHeaders({
        'retry-after': String(STREAM_CAP_RETRY_AFTER_SECONDS),
      });
    }
    this.openPerPrincipal.set(principal, open + 1);
    const watch = this.watches.get(instanceId) ?? this.watch(instanceId);
    watch.holders++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = this.openStreams(principal) - 1;
      if (left > 0) this.openPerPrincipal.set(principal, left);
      else this.openPerPrincipal.delete(principal);
      if (--watch.holders === 0) this.drop(instanceId, watch);
    };
    return { watch, release };
  }

  private watch(instanceId: string): JobWatch {
    const watch = new JobWatch(instanceId, () => this.jobs.status(instanceId, STREAM_READER), this.feed);
    this.watches.set(instanceId, watch);
    return watch;
  }

  private drop(instanceId: string, watch: JobWatch): void {
    watch.close();
    if (this.watches.get(instanceId) === watch) this.watches.delete(instanceId);
  }

  private beat(): void {
    for (const watch of this.watches.values()) {
      for (const stream of watch.streams) stream.heartbeat();
      watch.refresh();
    }
  }

  /** Ends every stream before the HTTP server closes, which would otherwise wait for them. */
  beforeApplicationShutdown(): void {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const watch of this.watches.values()) {
      for (const stream of watch.streams) stream.end(true);
    }
  }
}
