import { Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Environment } from '@report-jobs/config';
import { ProblemException } from '../http/problem-details';
import { SharedRateCounter, WINDOW_MS } from '../rate-limit/shared-rate-counter';

/** The shared counter's bucket of failed authentications, counted per client address. */
const AUTH_FAILURES = 'auth-failures';

/**
 * Failed authentications (a wrong key, malformed credentials), on the API's routes and on
 * the queue dashboard alike, are logged and counted per client address (request.ip, which
 * honours TRUST_PROXY), across every API replica. Past AUTH_FAILURES_PER_MINUTE the address
 * gets 429 until the window turns, whatever it presents, so that guessing cannot go on
 * through any door. A request presenting no credentials guesses nothing and is not counted.
 */
@Injectable()
export class AuthFailureThrottle {
  private readonly logger = new Logger('Authentication');

  constructor(
    private readonly failures: SharedRateCounter,
    private readonly env: Environment,
  ) {}

  /** Throws the 429 to answer when the request's address has used up its budget of failures. */
  refuseOverBudget(request: FastifyRequest): void {
    const budget = this.env.AUTH_FAILURES_PER_MINUTE;
    if (budget === 0) return;
    const now = Date.now();
    const { count, windowStart } = this.failures.peek(AUTH_FAILURES, request.ip, now);
    if (count < budget) return;
    const retryAfter = Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
    throw new ProblemException(
      429,
      `Too many failed authentications from this address: at most ${budget} per minute. Try again after Retry-After.`,
    ).withHeaders({ 'retry-after': String(retryAfter) });
  }

  /** Counts and logs a failed attempt (never the credentials themselves). */
  failed(request: FastifyRequest, reason: string): void {
    if (this.env.AUTH_FAILURES_PER_MINUTE > 0) this.failures.hit(AUTH_FAILURES, request.ip, Date.now());
    this.logger.warn({ requestId: request.id, address: request.ip, reason }, 'Authentication failed');
  }
}
