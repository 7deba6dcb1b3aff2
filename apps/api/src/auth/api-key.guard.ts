import { CanActivate, ExecutionContext, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS } from '../http/caller';
import { ProblemException } from '../http/problem-details';
import { ApiKeyRegistry } from './api-key-registry';
import { IS_PUBLIC } from './public.decorator';

/**
 * Authenticates every request but the public ones with `Authorization: Bearer <key>` or
 * `X-API-Key: <key>`, and records the caller on the request. Without a key the caller is
 * anonymous only when ALLOW_ANONYMOUS is on; a wrong key is refused either way.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger(ApiKeyGuard.name);

  constructor(
    private readonly registry: ApiKeyRegistry,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    if (this.registry.allowAnonymous) {
      this.logger.warn('ALLOW_ANONYMOUS is on: requests without an API key are served as "anonymous"');
    }
    this.logger.log(`${this.registry.size} API key(s) configured`);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const presented = presentedKey(request);
    if (presented === undefined) {
      if (!this.registry.allowAnonymous) throw unauthorized('An API key is required: send Authorization: Bearer <key> or X-API-Key.');
      request.caller = ANONYMOUS;
      return true;
    }
    const caller = this.registry.authenticate(presented);
    if (!caller) throw unauthorized('The API key is not valid.');
    request.caller = caller;
    return true;
  }
}

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 0) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized('Authorization must be "Bearer <key>".');
    return match[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

function unauthorized(detail: string): ProblemException {
  return new ProblemException(401, detail).withHeaders({ 'www-authenticate': 'Bearer realm="report-jobs"' });
}
