import { Logger } from '@nestjs/common';
import { ProblemException, ServiceUnavailableError } from '../http/problem-details';
import type { EventStream } from './event-stream';
import type { QueueEventsFeed } from './queue-events-feed';
import type { JobStatus } from './report-jobs.service';

/**
 * The open event streams of one job. When the job changes (a queue event woke it, or a
 * heartbeat asks in case an event was lost), it reads the job once, whatever the number of
 * streams, and offers the status to each. One read at a time: a change announced while a
 * read is under way is read again right after it, so the streams never stay behind the
 * job, while changes that come faster than reads are sent as their latest state.
 */
export class JobWatch {
  private static readonly logger = new Logger(JobWatch.name);
  readonly streams = new Set<EventStream>();
  /** Requests and streams holding the watch; it is dropped when none is left. */
  holders = 0;
  private wakes = 0;
  private reading = false;
  private readAgain = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly instanceId: string,
    private readonly read: () => Promise<JobStatus>,
    feed: QueueEventsFeed,
  ) {
    this.unsubscribe = feed.subscribe(instanceId, () => this.wake());
  }

  /** Stops listening to the job. */
  close(): void {
    this.unsubscribe();
  }

  /** How many changes have been announced so far: an opener compares it across its first read. */
  get changesAnnounced(): number {
    return this.wakes;
  }

  /** The job changed. */
  wake(): void {
    this.wakes++;
    this.refresh();
  }

  /** Reads the job and offers its status to every stream. */
  refresh(): void {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    void this.readUntilCurrent().finally(() => (this.reading = false));
  }

  private async readUntilCurrent(): Promise<void> {
    try {
      do {
        this.readAgain = false;
        if (this.streams.size === 0) return;
        const status = await this.read();
        for (const stream of this.streams) stream.offer(status);
      } while (this.readAgain);
    } catch (error) {
      if (error instanceof ProblemException) {
        // Removed while followed (404, 410): the streams end; a reconnect is told why.
        for (const stream of this.streams) stream.end();
      } else if (!(error instanceof ServiceUnavailableError)) {
        JobWatch.logger.error({ err: error, instanceId: this.instanceId }, 'Could not read a followed job');
      }
      // Redis unavailable (already logged by the job store): the next heartbeat reads again.
    }
  }
}
