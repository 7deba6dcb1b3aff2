import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { JobStore } from '../reports/job-store';

export const WINDOW_MS = 60_000;
/** How often counts made here are added to the shared ones in Redis. */
const SYNC_INTERVAL_MS = 100;

interface WindowCount {
  start: number;
  /** The shared total as Redis last reported it (other replicas' requests included). */
  shared: number;
  /** Requests counted here and not yet added to the shared total. */
  pending: number;
  /** Requests being added right now. */
  inFlight: number;
}

/**
 * Per-principal request counts in fixed one-minute windows, shared by every API replica
 * through Redis without a Redis round trip on the request path: each replica counts
 * locally and adds its counts to Redis every SYNC_INTERVAL_MS, learning the shared total
 * in return. A principal's first request of a window syncs at once, so a replica starts
 * from what the others already counted. A burst spread over several replicas can
 * overshoot a limit by what they count within one sync interval.
 */
@Injectable()
export class SharedRateCounter implements OnApplicationShutdown {
  private readonly logger = new Logger(SharedRateCounter.name);
  private readonly windows = new Map<string, WindowCount>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly store: JobStore) {
    this.timer = setInterval(() => void this.syncAll(), SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  /** Counts one request; answers the window's total as far as this replica knows it. */
  hit(bucket: string, principal: string, now: number): { count: number; windowStart: number } {
    const windowStart = now - (now % WINDOW_MS);
    const key = `${bucket}\n${principal}`;
    let window = this.windows.get(key);
    const isNew = !window || window.start !== windowStart;
    if (isNew) {
      window = { start: windowStart, shared: 0, pending: 0, inFlight: 0 };
      this.windows.set(key, window);
    }
    window!.pending++;
    if (isNew) void this.sync(bucket, principal, window!);
    return { count: window!.shared + window!.inFlight + window!.pending, windowStart };
  }

  /** The window's total as far as this replica knows it, without counting a request. */
  peek(bucket: string, principal: string, now: number): { count: number; windowStart: number } {
    const windowStart = now - (now % WINDOW_MS);
    const window = this.windows.get(`${bucket}\n${principal}`);
    const count = window && window.start === windowStart ? window.shared + window.inFlight + window.pending : 0;
    return { count, windowStart };
  }

  private async syncAll(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.windows].map(([key, window]) => {
        if (window.pending === 0) {
          if (window.inFlight === 0 && window.start + WINDOW_MS <= now) this.windows.delete(key);
          return undefined;
        }
        const [bucket, principal] = key.split('\n');
        return this.sync(bucket, principal, window);
      }),
    );
  }

  private async sync(bucket: string, principal: string, window: WindowCount): Promise<void> {
    const increment = window.pending;
    if (increment === 0) return;
    window.pending = 0;
    window.inFlight += increment;
    try {
      const total = await this.store.addRequests(bucket, principal, window.start, WINDOW_MS, increment);
      // Counts added by syncs still in flight are part of `total` or will be.
      window.shared = Math.max(window.shared, total - (window.inFlight - increment));
    } catch {
      // Redis unreachable: keep counting here and add them later.
      window.pending += increment;
      this.logger.debug('Could not share request counts; keeping them locally');
    } finally {
      window.inFlight -= increment;
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
