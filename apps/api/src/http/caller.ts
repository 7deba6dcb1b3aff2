import type { FastifyRequest } from 'fastify';

/** Who is calling: the principal jobs belong to, and whether it may see everyone's. */
export interface Caller {
  principal: string;
  admin: boolean;
}

/** The caller when the API runs without keys (ALLOW_ANONYMOUS). */
export const ANONYMOUS: Caller = { principal: 'anonymous', admin: false };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication guard. */
    caller?: Caller;
  }
}

export function callerOf(request: FastifyRequest): Caller {
  return request.caller ?? ANONYMOUS;
}
