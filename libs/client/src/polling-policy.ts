import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionError, TooManyRequestsError, UnavailableError } from './errors';

/** How the client waits: bounds on what it honours, and how long it keeps trying. */
export interface PollingPolicy {
  /**
   * Longest wait taken from a Retry-After. The service asks for 1–30 s (60 s at most on a
   * 429); a larger value (from something between client and service) is taken as this.
   */
  maxRetryAfterSeconds: number;
  /** Longest `Prefer: wait` the client asks the service to hold a status read for; 0 never asks. */
  maxPreferWaitSeconds: number;
  /** Transient failures in a row (503, 429, a lost connection) retried before giving up. */
  maxTransientRetries: number;
}

export const DEFAULT_POLLING_POLICY: PollingPolicy = { maxRetryAfterSeconds: 60, maxPreferWaitSeconds: 10, maxTransientRetries: 5 };

/** The service's smallest Retry-After: a poll never follows another sooner. */
const MIN_POLL_SECONDS = 1;
const MAX_BACKOFF_SECONDS = 30;

/** Seconds to wait before the next status read after a 202 that asked for `retryAfterSeconds`. */
export function pollDelaySeconds(retryAfterSeconds: number | undefined, policy: PollingPolicy): number {
  return Math.min(policy.maxRetryAfterSeconds, Math.max(MIN_POLL_SECONDS, retryAfterSeconds ?? MIN_POLL_SECONDS));
}

/**
 * The `Prefer: wait` to send on the status read made after honouring a wait of
 * `waitedSeconds`, or undefined to send none.
 *
 * Retry-After is the service's estimate of the time the job has left (between 1 and 30 s).
 * When it is short, the job should end about when the client reads again, so the read asks
 * the service to hold its answer up to that long again: the end is seen the moment it
 * happens instead of one more Retry-After later, in one request instead of several. The
 * hold is never longer than the wait just honoured, so reads are never more frequent than
 * Retry-After asks. A long estimate means a long job: plain reads then keep the progress
 * fresh and hold no connection for long.
 */
export function preferWaitSeconds(waitedSeconds: number, policy: PollingPolicy): number | undefined {
  if (waitedSeconds <= 0 || waitedSeconds > policy.maxPreferWaitSeconds) return undefined;
  return waitedSeconds;
}

/**
 * Seconds to wait before trying again after `error`, the `failures`-th in a row; undefined
 * when trying again cannot help or the failures are too many. The service's Retry-After
 * is honoured; a lost connection backs off exponentially.
 */
export function transientDelaySeconds(error: unknown, failures: number, policy: PollingPolicy): number | undefined {
  if (failures > policy.maxTransientRetries) return undefined;
  const backoff = Math.min(MAX_BACKOFF_SECONDS, 2 ** (failures - 1));
  if (error instanceof UnavailableError || error instanceof TooManyRequestsError) {
    return Math.min(policy.maxRetryAfterSeconds, error.retryAfterSeconds ?? backoff);
  }
  if (error instanceof ConnectionError) return backoff;
  return undefined;
}

/** Waits, or rejects with the signal's reason as soon as it aborts (as fetch does). */
export async function pause(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  try {
    await sleep(seconds * 1000, undefined, { signal });
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  }
}
