/** The rejection of a promise given up on by withTimeout. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * `promise`, or a TimeoutError with `message` once `ms` have passed without it settling:
 * how long a caller waits for Redis when no answer must not hold it up. The promise
 * itself is not cancelled (a command already sent may still take effect later), and the
 * timer is cleared as soon as either side wins, so nothing is left pending.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
