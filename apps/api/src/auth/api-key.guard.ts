import { CanActivate, ExecutionContext, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS } from '../http/caller';
import { ProblemException } from '../http/problem-details';
import { ApiKeyRegistry } from './api-key-registry';
import { AuthFailureThrottle } from './auth-failure-throttle';
import { IS_PUBLIC } from './public.decorator';

type Presented = { kind: 'none' } | { kind: 'malformed' } | { kind: 'key'; key: string };

/**
 * Authenticates every request but the public ones with `Authorization: Bearer <key>` or
 * `X-API-Key: <key>`, and records the caller on the request. Without a key the caller is
 * anonymous only when ALLOW_ANONYMOUS is on; a wrong key is refused either way.
 * Failed attempts are throttled per client address (AuthFailureThrottle).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger(ApiKeyGuard.name);
  private readonly publicRoutes = new WeakMap<object, boolean>();

  constructor(
    private readonly registry: ApiKeyRegistry,
    private readonly reflector: Reflector,
    private readonly throttle: AuthFailureThrottle,
  ) {}

  onModuleInit(): void {
    if (this.registry.allowAnonymous) {
      this.logger.warn('ALLOW_ANONYMOUS is on: requests without an API key are served as "anonymous"');
    }
    this.logger.log(`${this.registry.size} API key(s) configured`);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.isPublic(context)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    this.throttle.refuseOverBudget(request);
    const presented = presentedKey(request);
    if (presented.kind === 'malformed') throw this.failed(request, 'malformed Authorization header', 'Authorization must be "Bearer <key>".');
    if (presented.kind === 'none') {
      if (!this.registry.allowAnonymous) throw unauthorized('An API key is required: send Authorization: Bearer <key> or X-API-Key.');
      request.caller = ANONYMOUS;
      return true;
    }
    const caller = this.registry.authenticate(presented.key);
    if (!caller) throw this.failed(request, 'unknown API key', 'The API key is not valid.');
    request.caller = caller;
    return true;
  }

  /** Whether the route is public; read from its metadata once per route, not per request. */
  private isPublic(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let isPublic = this.publicRoutes.get(handler);
    if (isPublic === undefined) {
      isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, context.getClass()]) === true;
      this.publicRoutes.set(handler, isPublic);
    }
    return isPublic;
  }

  /** Counts and logs a failed attempt; answers the 401 to send. */
  private failed(request: FastifyRequest, reason: string, detail: string): ProblemException {
    this.throttle.failed(request, reason);
    return unauthorized(detail);
  }
}

function presentedKey(request: FastifyRequest): Presented {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 0) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? { kind: 'key', key: match[1] } : { kind: 'malformed' };
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? { kind: 'key', key: apiKey } : { kind: 'none' };
}

function unauthorized(detail: string): ProblemException {
  return new ProblemException(401, detail).withHeaders({ 'www-authenticate': 'Bearer realm="report-jobs"' });
}
