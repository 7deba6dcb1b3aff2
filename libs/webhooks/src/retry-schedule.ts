/** Each delay is moved by up to this share either way, so failed deliveries do not retry in lockstep. */
export const RETRY_JITTER = 0.1;
/** Longest wait a receiver's Retry-After may ask for. */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * The delay before the next attempt, after `attemptsMade` attempts (1 for the first retry):
 * the schedule's delay with jitter, or longer when the receiver asked for it with
 * Retry-After (within a day).
 */
export function nextAttemptDelayMs(delays: number[], attemptsMade: number, retryAfterMs?: number, random = Math.random): number {
  const scheduled = delays[Math.min(attemptsMade, delays.length) - 1] ?? 0;
  const jittered = Math.round(scheduled * (1 + RETRY_JITTER * (2 * random() - 1)));
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}
