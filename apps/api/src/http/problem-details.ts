import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { isRedisUnavailable } from '@report-jobs/queue';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** How long a client should wait after a 503. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** A dependency (Redis) cannot serve the request now: 503 with Retry-After. */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';

  /**
   * @param mayHaveTakenEffect the command was sent and never answered, so Redis may have
   *   executed it (a job may have been queued); false when it certainly did nothing
   */
  constructor(
    message: string,
    readonly mayHaveTakenEffect = false,
  ) {
    super(message);
  }
}

export interface FieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem, as sent to clients. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

interface ProblemWithHeaders {
  problem: Problem;
  headers: Record<string, string>;
  /** Errors the service did not expect: logged with their stack, never shown. */
  unexpected: boolean;
}

/** Extension members of a problem (RFC 9457 §3.2), e.g. when a job expired. */
export type ProblemExtensions = Record<string, string | number>;

export function problem(status: number, detail: string, errors?: FieldError[], extensions: ProblemExtensions = {}): Problem {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...extensions,
    ...(errors ? { errors } : {}),
  };
}

/** An HttpException whose body is already a problem (validation errors, 404s). */
export class ProblemException extends HttpException {
  /** Response headers that go with the problem (WWW-Authenticate, Retry-After). */
  headers: Record<string, string> = {};

  constructor(status: number, detail: string, errors?: FieldError[], extensions?: ProblemExtensions) {
    super(problem(status, detail, errors, extensions), status);
  }

  withHeaders(headers: Record<string, string>): this {
    this.headers = { ...this.headers, ...headers };
    return this;
  }
}

/**
 * Maps any exception to the problem sent to the client. Fastify's own request errors
 * (malformed JSON, 413, 415) reach here as HttpExceptions, mapped by Nest's adapter. A
 * Redis error is a 503 only when Redis is unreachable or refuses for a passing reason
 * (libs/queue/src/redis-errors.ts); any other is a 500 like every unexpected error.
 */
export function toProblem(exception: unknown): ProblemWithHeaders {
  if (exception instanceof ServiceUnavailableError || isRedisUnavailable(exception)) {
    return {
      problem: problem(503, 'The job store is unavailable; try again shortly.'),
      headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
      unexpected: false,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    if (exception instanceof ProblemException) {
      return { problem: body as Problem, headers: exception.headers, unexpected: false };
    }
    const message = typeof body === 'object' && body !== null && 'message' in body ? body.message : body;
    const detail = Array.isArray(message) ? message.join('; ') : String(message ?? exception.message);
    return { problem: problem(status, status >= 500 ? 'An unexpected error occurred.' : detail), headers: {}, unexpected: status >= 500 };
  }
  return {
    problem: problem(HttpStatus.INTERNAL_SERVER_ERROR, 'An unexpected error occurred.'),
    headers: {},
    unexpected: true,
  };
}

const logger = new Logger('Problem');

/** Sends a problem+json answer; unexpected errors are logged with their detail and request id. */
export function sendProblem(exception: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { problem: body, headers, unexpected } = toProblem(exception);
  if (unexpected) {
    logger.error({ err: exception, requestId: request.id }, `Unexpected error on ${request.method} ${request.url}`);
  } else if (body.status >= 500) {
    logger.warn({ requestId: request.id, status: body.status }, body.detail);
  }
  return reply
    .status(body.status)
    .headers(headers)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ ...body, requestId: request.id }));
}

/** Every exception that reaches Nest leaves as application/problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}
