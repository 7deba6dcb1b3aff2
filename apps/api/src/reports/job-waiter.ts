import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { Environment } from '@report-jobs/config';
import { QueueEventsFeed, type JobChangeEvent } from './queue-events-feed';

/** The events after which a job is no longer pending or running. */
const ENDING_EVENTS: ReadonlySet<JobChangeEvent> = new Set(['completed', 'failed', 'removed']);

/**
 * Lets requests with `Prefer: wait=N` wait for a job to finish. The process's queue events
 * readers (one per shard) serve every waiting request, so waiting ties up no Redis
 * connection per request. Events only wake a waiter early: the answer is always read from the job itself
 * afterwards, since the event stream is best-effort.
 */
@Injectable()
export class JobWaiter implements BeforeApplicationShutdown {
  private closing = false;
  private readonly waits = new Set<() => void>();

  constructor(
    private readonly env: Environment,
    private readonly feed: QueueEventsFeed,
  ) {}

  /** The wait this request may have, in ms: its Prefer: wait, bounded by MAX_PREFER_WAIT_SECONDS. */
  allowedWaitMs(preferredSeconds: number | undefined): number {
    if (!preferredSeconds) return 0;
    return Math.min(preferredSeconds, this.env.MAX_PREFER_WAIT_SECONDS) * 1000;
  }

  /**
   * Resolves when the job completes or fails, or when `ms` have passed, whichever is
   * first. `hasEnded` is asked once the waiter listens and the events reader of the job's
   * shard is live: a job that ended before then is seen by that check, one that ends
   * afterwards by the reader.
   */
  async waitForEnd(instanceId: string, ms: number, hasEnded: () => Promise<boolean>): Promise<void> {
    if (ms <= 0 || this.closing) return;
    await new Promise<void>((resolve) => {
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        this.waits.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = this.feed.subscribe(instanceId, (event) => ENDING_EVENTS.has(event) && done());
      this.waits.add(done);
      this.feed
        .whenLive(instanceId)
        .then(hasEnded)
        .then(
          (ended) => ended && done(),
          () => undefined,
        );
    });
  }

  /**
   * Ends every wait before the HTTP server closes: the server waits for in-flight requests,
   * and a request holding a Prefer: wait would otherwise delay the shutdown by its wait.
   * Released requests answer at once with the job's current status.
   */
  beforeApplicationShutdown(): void {
    this.closing = true;
    for (const done of [...this.waits]) done();
  }
}
