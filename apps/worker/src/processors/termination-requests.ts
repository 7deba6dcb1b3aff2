import { Injectable } from '@nestjs/common';

/** How long a termination request for a job this worker does not run is remembered. */
const REMEMBER_MS = 30_000;

/**
 * Termination requests that reached this worker for jobs it was not running at that
 * moment. A job can be locked by a worker a moment before that worker starts tracking
 * it; a request arriving in between is kept here and honoured when the attempt starts,
 * without a Redis round trip per job.
 */
@Injectable()
export class TerminationRequests {
  private readonly requests = new Map<string, { reason: string; until: number }>();

  remember(instanceId: string, reason: string, now = Date.now()): void {
    for (const [id, request] of this.requests) if (request.until < now) this.requests.delete(id);
    this.requests.set(instanceId, { reason, until: now + REMEMBER_MS });
  }

  /** The reason of a request for this job, if one came; it is forgotten once taken. */
  take(instanceId: string, now = Date.now()): string | undefined {
    const request = this.requests.get(instanceId);
    this.requests.delete(instanceId);
    return request && request.until >= now ? request.reason : undefined;
  }
}
