import type { RedisClient } from '@report-jobs/queue';
import { randomUUID } from 'node:crypto';

/** Deletes the lease only if this holder still has it: an expired lease may be someone else's now. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface ReleaseCommand {
  reportJobReleaseLease(key: string, token: string): Promise<number>;
}

/**
 * A lease in Redis that one holder at a time may have: taken with SET NX PX, given back
 * when the work is done, and expiring by itself if its holder dies. It keeps work that
 * any worker could do to one worker at a time; the work itself must still be safe to
 * repeat, since a holder slower than the lease can overlap with the next one.
 */
export class SweepLease {
  private readonly token = randomUUID();

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly durationMs: number,
  ) {
    if (!('reportJobReleaseLease' in redis)) redis.defineCommand('reportJobReleaseLease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  }

  /** True if this holder got the lease. */
  async acquire(): Promise<boolean> {
    return (await this.redis.set(this.key, this.token, 'PX', this.durationMs, 'NX')) === 'OK';
  }

  async release(): Promise<void> {
    await (this.redis as unknown as ReleaseCommand).reportJobReleaseLease(this.key, this.token);
  }
}
