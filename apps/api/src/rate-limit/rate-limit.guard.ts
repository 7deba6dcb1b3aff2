import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Environment } from '@report-jobs/config';
import { IS_PUBLIC } from '../auth/public.decorator';
import { callerOf } from '../http/caller';
import { ProblemException } from '../http/problem-details';
import { SharedRateCounter, WINDOW_MS } from './shared-rate-counter';

export type RateLimitBucket = 'submit' | 'read';
const BUCKET = 'report-jobs:rate-limit-bucket';

/** Puts a route in the submissions budget; every other route counts as a read. */
export const CountsAsSubmit = () => SetMetadata(BUCKET, 'submit');

/**
 * Per-principal budgets per minute, one for job submissions and one for everything else,
 * shared by every API replica (SharedRateCounter). Over budget: 429 with Retry-After until
 * the window turns. Runs after authentication, so it knows the principal.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly buckets = new WeakMap<object, RateLimitBucket | undefined>();

  constructor(
    private readonly counter: SharedRateCounter,
    private readonly env: Environment,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const bucket = this.bucketOf(context);
    if (bucket === undefined) return true;
    const limit = bucket === 'submit' ? this.env.RATE_LIMIT_SUBMITS_PER_MINUTE : this.env.RATE_LIMIT_READS_PER_MINUTE;
    if (limit === 0) return true;

    const now = Date.now();
    const principal = callerOf(context.switchToHttp().getRequest<FastifyRequest>()).principal;
    const { count, windowStart } = this.counter.hit(bucket, principal, now);
    if (count <= limit) return true;
    const retryAfter = Math.ceil((windowStart + WINDOW_MS - now) / 1000);
    throw new ProblemException(
      429,
      `Rate limit reached: ${limit} ${bucket === 'submit' ? 'job submissions' : 'requests'} per minute for ${principal}.`,
    ).withHeaders({ 'retry-after': String(Math.max(1, retryAfter)) });
  }

  /** The route's budget, undefined for a public route; read from its metadata once per route. */
  private bucketOf(context: ExecutionContext): RateLimitBucket | undefined {
    const handler = context.getHandler();
    if (this.buckets.has(handler)) return this.buckets.get(handler);
    const targets = [handler, context.getClass()];
    const bucket = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)
      ? undefined
      : (this.reflector.getAllAndOverride<RateLimitBucket>(BUCKET, targets) ?? 'read');
    this.buckets.set(handler, bucket);
    return bucket;
  }
}
