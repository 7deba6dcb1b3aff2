import type { ProblemDetails } from './types';

// What the client throws. An answer of the service that is an error becomes a ProblemError
// (or one of its subclasses) carrying the problem document the service sent; a service
// that could not be reached, a ConnectionError. An aborted call rejects with the signal's
// reason, as fetch does.

export class ReportJobsError extends Error {
  override readonly name: string = 'ReportJobsError';
}

/** The service could not be reached, or the connection dropped before an answer. */
export class ConnectionError extends ReportJobsError {
  override readonly name = 'ConnectionError';
}

/** An answer the OpenAPI document does not describe (a proxy's error page, for instance). */
export class UnexpectedAnswerError extends ReportJobsError {
  override readonly name = 'UnexpectedAnswerError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** An error answer: the RFC 9457 problem the service sent. */
export class ProblemError extends ReportJobsError {
  override readonly name: string = 'ProblemError';
  readonly status: number;
  /** Quote it when reporting a problem: the service's logs have the detail under it. */
  readonly requestId: string | undefined;
  /** Seconds the service asked to wait before trying again (503, 429), if it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly problem: ProblemDetails,
    retryAfterSeconds?: number,
  ) {
    super(problem.detail);
    this.status = problem.status;
    this.requestId = problem.requestId;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 404: no job has this id (or it belongs to another principal). */
export class NotFoundError extends ProblemError {
  override readonly name = 'NotFoundError';
}

/** 410: the job was removed by retention or purged (or, for a cancel, it has already ended). */
export class GoneError extends ProblemError {
  override readonly name = 'GoneError';
  /** When the job expired or was purged, when the service said. */
  get goneAt(): Date | undefined {
    return this.problem.goneAt === undefined ? undefined : new Date(this.problem.goneAt);
  }
}

/** 429: over the caller's budget, or too many failed authentications from its address. */
export class TooManyRequestsError extends ProblemError {
  override readonly name = 'TooManyRequestsError';
}

/**
 * 503 (or a gateway's 502/504): the service cannot serve now. On a submit whose outcome is
 * unknown, instanceId and statusQueryGetUri name the job that may have been queued.
 */
export class UnavailableError extends ProblemError {
  override readonly name = 'UnavailableError';
  get instanceId(): string | undefined {
    return this.problem.instanceId;
  }
  get statusQueryGetUri(): string | undefined {
    return this.problem.statusQueryGetUri;
  }
}

const GATEWAY_STATUSES = [502, 503, 504];

/**
 * The error for an error answer. `body` is what came with it: a problem document as the
 * service sends, or anything else from something in between (then a problem is made up
 * from the status, so callers handle one shape).
 */
export function errorFromAnswer(response: Response, body: unknown): ProblemError {
  const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
  const problem = isProblem(body) ? body : substituteProblem(response);
  if (response.status === 404) return new NotFoundError(problem, retryAfterSeconds);
  if (response.status === 410) return new GoneError(problem, retryAfterSeconds);
  if (response.status === 429) return new TooManyRequestsError(problem, retryAfterSeconds);
  if (GATEWAY_STATUSES.includes(response.status)) return new UnavailableError(problem, retryAfterSeconds);
  return new ProblemError(problem, retryAfterSeconds);
}

function isProblem(body: unknown): body is ProblemDetails {
  return (
    typeof body === 'object' &&
    body !== null &&
    'status' in body &&
    typeof body.status === 'number' &&
    'detail' in body &&
    typeof body.detail === 'string'
  );
}

function substituteProblem(response: Response): ProblemDetails {
  return {
    type: 'about:blank',
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: `The service answered ${response.status} without a problem document.`,
    requestId: response.headers.get('x-request-id') ?? '',
  };
}

/**
 * Retry-After in seconds: delay-seconds or an HTTP date (RFC 9110), or undefined when it is
 * missing or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
