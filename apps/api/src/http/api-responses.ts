import { applyDecorators } from '@nestjs/common';
import { ApiResponse, getSchemaPath, type ApiResponseOptions } from '@nestjs/swagger';
import { ProblemDetails } from '../reports/dto/report-job.responses';
import { PROBLEM_CONTENT_TYPE, UNAVAILABLE_RETRY_AFTER_SECONDS } from './problem-details';

// Decorators and header objects that describe answers in the OpenAPI document exactly as
// the API sends them: errors as application/problem+json only, each with the headers
// that go with it, and success headers the client relies on marked required.

type Headers = NonNullable<ApiResponseOptions['headers']>;
type Header = Headers[string];

/** Retry-After as this API sends it: whole seconds, never an HTTP date. */
export function retryAfterHeader(description: string, maximum?: number): Header {
  return { description, required: true, schema: { type: 'integer', minimum: 1, ...(maximum ? { maximum } : {}) } };
}

export const LOCATION_HEADER: Header = {
  description: 'The absolute status URL of the job (statusQueryGetUri).',
  required: true,
  schema: { type: 'string', format: 'uri' },
};
export const POLL_RETRY_AFTER_HEADER = retryAfterHeader('Seconds to wait before polling, estimated from the job’s state.', 30);
export const PREFERENCE_APPLIED_HEADER: Header = {
  description: 'Present when a Prefer: wait was honoured: the wait applied, as wait=N.',
  schema: { type: 'string', pattern: '^wait=\\d+$' },
};
export const CONTENT_LOCATION_HEADER: Header = {
  description: 'The status URL whose representation the body is.',
  required: true,
  schema: { type: 'string', format: 'uri' },
};

/** An error answer: application/problem+json with the ProblemDetails schema, and nothing else. */
export function ApiProblemResponse(status: number, description: string, headers?: Headers) {
  return ApiResponse({
    status,
    description,
    ...(headers ? { headers } : {}),
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDetails) } } },
  });
}

export const ApiUnauthorizedProblem = () =>
  ApiProblemResponse(401, 'No API key, or one that is not valid.', {
    'WWW-Authenticate': { description: 'How to authenticate: Bearer.', required: true, schema: { type: 'string', pattern: '^Bearer' } },
  });

export const ApiTooManyRequestsProblem = () =>
  ApiProblemResponse(429, 'Over the caller’s per-minute budget.', {
    'Retry-After': retryAfterHeader('Seconds until the budget’s window turns.', 60),
  });

export const ApiUnavailableProblem = (description: string) =>
  ApiProblemResponse(503, description, {
    'Retry-After': retryAfterHeader(`Seconds to wait before trying again (${UNAVAILABLE_RETRY_AFTER_SECONDS}).`),
  });

export const ApiUnexpectedProblem = () =>
  ApiProblemResponse(500, 'An unexpected error; the logs have the detail under the problem’s requestId.');

/** The answers every authenticated route may give, whatever it does. */
export const ApiAuthenticatedProblems = () => applyDecorators(ApiUnauthorizedProblem(), ApiTooManyRequestsProblem());
