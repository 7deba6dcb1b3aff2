import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiSecurity,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Environment } from '@report-jobs/config';
import {
  ApiAuthenticatedProblems,
  ApiProblemResponse,
  ApiUnavailableProblem,
  ApiUnexpectedProblem,
  CONTENT_LOCATION_HEADER,
  LOCATION_HEADER,
  POLL_RETRY_AFTER_HEADER,
  PREFERENCE_APPLIED_HEADER,
} from '../http/api-responses';
import { callerOf } from '../http/caller';
import { CountsAsSubmit } from '../rate-limit/rate-limit.guard';
import { preferredWaitSeconds } from '../http/prefer';
import { PROBLEM_CONTENT_TYPE, ProblemException, ServiceUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../http/problem-details';
import { publicBaseUrl, statusUrl } from '../http/public-url';
import { decodeContinuationToken, encodeContinuationToken } from './continuation-token';
import { CreateReportJobDto } from './dto/create-report-job.dto';
import { CONTINUATION_TOKEN_PATTERN, DEFAULT_PAGE_SIZE, ListReportJobsQuery } from './dto/list-report-jobs.query';
import { AcceptedResponse, JobListPage, ProblemDetails, PurgeResult, StatusPayload } from './dto/report-job.responses';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from './idempotency';
import { JobWaiter } from './job-waiter';
import { EnqueueUnconfirmedError, JobNotQueuedError, ReportJobsService, type JobStatus } from './report-jobs.service';
import { MIN_RETRY_AFTER_SECONDS } from './retry-after';

const INSTANCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const CONTINUATION_TOKEN_HEADER = 'x-ms-continuation-token';
const MAX_REASON_LENGTH = 500;

// Optional parameters carry no example or default: Swagger UI would fill them in and send
// them with every "Try it out", which a person never asked for (a Prefer: wait turns the
// 202 into a 200; one fixed Idempotency-Key would be shared by everyone trying the docs).
const PREFER_HEADER = {
  name: 'Prefer',
  required: false,
  description:
    'RFC 7240 `wait=N` (for instance wait=10): hold the answer up to N seconds (at most MAX_PREFER_WAIT_SECONDS) ' +
    'for the job to end. Other preferences are ignored.',
  schema: { type: 'string' },
};
const INSTANCE_ID_PARAM = {
  name: 'instanceId',
  description: 'The instanceId returned when the job was started (a lowercase UUID).',
  schema: { type: 'string', format: 'uuid', pattern: INSTANCE_ID.source },
};
const REASON_QUERY = {
  name: 'reason',
  required: false,
  description: 'Why; shown as the Terminated job’s output.reason. Default: "Terminated by the client".',
  schema: { type: 'string', maxLength: MAX_REASON_LENGTH },
};
/** 1–255 visible ASCII characters but `"` and `\`, bare or in double quotes (an sf-string). */
const IDEMPOTENCY_KEY_PATTERN = '^(?:"[\\x21\\x23-\\x5b\\x5d-\\x7e]{1,255}"|[\\x21\\x23-\\x5b\\x5d-\\x7e]{1,255})$';
const STATUS_PAYLOAD = { $ref: getSchemaPath(StatusPayload) };
const PROBLEM_DETAILS = { $ref: getSchemaPath(ProblemDetails) };
const INVALID_ID = 'The id is not a lowercase UUID, or the URL is malformed.';
const URL_TOO_LONG = 'The URL is too long (an id far longer than a UUID).';

/** Translates HTTP to ReportJobsService calls and back; no job logic lives here. */
@ApiTags('report jobs')
@ApiBearerAuth()
@ApiSecurity('api-key')
@ApiAuthenticatedProblems()
@ApiUnexpectedProblem()
@Controller('api/jobs/reports')
export class ReportsController {
  constructor(
    private readonly jobs: ReportJobsService,
    private readonly waiter: JobWaiter,
    private readonly env: Environment,
  ) {}

  @Post()
  @HttpCode(202)
  @CountsAsSubmit()
  @ApiOperation({
    summary: 'Start a report job',
    description:
      'Validates the request, queues the job and answers 202 once Redis has acknowledged it. Poll ' +
      'statusQueryGetUri (also in Location) no sooner than Retry-After says. With an Idempotency-Key, ' +
      'repeats of the request land on the same job.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Makes retries safe: one job per key and caller, kept as long as the job. Repeats with the same body ' +
      'answer like the first; with another body, 422. 1–255 visible ASCII characters but `"` and `\\`, bare or ' +
      'in double quotes; use a fresh random value (such as a UUID) per job.',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN },
  })
  @ApiHeader(PREFER_HEADER)
  @ApiAcceptedResponse({
    type: AcceptedResponse,
    description: 'The job is durably queued (or, with Prefer: wait, did not end within the wait).',
    headers: { Location: LOCATION_HEADER, 'Retry-After': POLL_RETRY_AFTER_HEADER, 'Preference-Applied': PREFERENCE_APPLIED_HEADER },
  })
  @ApiOkResponse({
    type: StatusPayload,
    description: 'With Prefer: wait, the job ended within the wait: its final status.',
    headers: { Location: LOCATION_HEADER, 'Content-Location': CONTENT_LOCATION_HEADER, 'Preference-Applied': PREFERENCE_APPLIED_HEADER },
  })
  @ApiProblemResponse(400, 'Invalid fields (named in errors), malformed JSON, a body that is not a JSON object, or a malformed Idempotency-Key.')
  @ApiProblemResponse(413, 'The body is larger than BODY_LIMIT_BYTES.')
  @ApiProblemResponse(415, 'Content-Type is not application/json.')
  @ApiProblemResponse(422, 'The Idempotency-Key was used with another body.')
  @ApiUnavailableProblem(
    'Redis is unreachable: nothing was queued; or, when the problem names an instanceId, the outcome of the ' +
      'enqueue is unknown: look for the job at its statusQueryGetUri, or retry with the same Idempotency-Key.',
  )
  async start(
    @Body() body: CreateReportJobDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AcceptedResponse | StatusPayload> {
    const idempotencyKey = parseIdempotencyKey(request.headers[IDEMPOTENCY_KEY_HEADER]);
    const started = await this.jobs.start(body, callerOf(request), request.id, idempotencyKey).catch((error: unknown) => {
      throw this.submitProblem(error, request, idempotencyKey !== undefined);
    });
    const urls = this.urls(request, started.instanceId);
    const waitMs = this.waiter.allowedWaitMs(preferredWaitSeconds(request.headers.prefer));
    // A repeat whose job is gone has nothing to wait for: it answers 202 with the URLs at once.
    if (waitMs > 0 && !started.gone) {
      // The job is queued: if Redis fails while waiting, the answer is still its 202, never
      // a 503 that would have the client submit it again.
      const status = await this.awaitEnd(started.instanceId, request, waitMs).catch((error: unknown) => {
        if (error instanceof ServiceUnavailableError) return undefined;
        throw error;
      });
      reply.header('preference-applied', `wait=${waitMs / 1000}`);
      if (status && !status.mapping.inProgress) {
        reply.status(200).header('location', urls.status).header('content-location', urls.status);
        return status.payload;
      }
    }
    reply.header('location', urls.status).header('retry-after', String(started.retryAfterSeconds));
    return {
      status: 'accepted',
      instanceId: started.instanceId,
      statusQueryGetUri: urls.status,
      terminatePostUri: `${urls.status}/terminate?reason={text}`,
      purgeHistoryDeleteUri: `${urls.status}/history`,
    };
  }

  @Get()
  @ApiOperation({
    summary: 'List report jobs',
    description:
      'The caller’s jobs (every job for an admin) in creation order, filtered by runtimeStatus and ' +
      'creation time. Pages stay stable while jobs keep arriving: new jobs come after the last page. A ' +
      'page may hold fewer than top items while more remain; continue while a continuationToken is returned.',
  })
  @ApiHeader({
    name: CONTINUATION_TOKEN_HEADER,
    required: false,
    description: 'The continuationToken of the previous page, as Durable Functions clients send it (the query parameter wins).',
    schema: { type: 'string', pattern: CONTINUATION_TOKEN_PATTERN.source },
  })
  @ApiOkResponse({
    type: JobListPage,
    description: 'A page of jobs; continue while continuationToken is not null.',
    headers: {
      [CONTINUATION_TOKEN_HEADER]: {
        description: 'The continuationToken of the body, when it is not null.',
        schema: { type: 'string', pattern: CONTINUATION_TOKEN_PATTERN.source },
      },
    },
  })
  @ApiProblemResponse(400, 'An unknown or invalid query parameter, page size or token.')
  @ApiUnavailableProblem('Redis is unreachable.')
  async list(
    @Query() query: ListReportJobsQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobListPage> {
    // Durable's clients send the token back in the header; others in the query.
    const headerToken = request.headers[CONTINUATION_TOKEN_HEADER];
    const token = query.continuationToken ?? (typeof headerToken === 'string' && headerToken ? headerToken : undefined);
    const page = await this.jobs.list(callerOf(request), {
      runtimeStatus: query.runtimeStatus,
      createdTimeFrom: parseTime('createdTimeFrom', query.createdTimeFrom),
      createdTimeTo: parseTime('createdTimeTo', query.createdTimeTo),
      top: query.top ?? DEFAULT_PAGE_SIZE,
      after: token ? decodeContinuationToken(token) : undefined,
    });
    const next = page.next ? encodeContinuationToken(page.next) : null;
    if (next) reply.header(CONTINUATION_TOKEN_HEADER, next);
    return { items: page.items, continuationToken: next };
  }

  @Get(':instanceId')
  @ApiOperation({
    summary: 'Get the status of a report job',
    description:
      '202 while the job is Pending or Running (with Location and Retry-After), 200 once it is Completed, ' +
      'Failed or Terminated. With returnInternalServerErrorOnFailure=true a Failed job answers 500. A job ' +
      'removed by retention or purge answers 410 for JOB_GONE_RETENTION_SECONDS.',
  })
  @ApiParam(INSTANCE_ID_PARAM)
  @ApiQuery({
    name: 'returnInternalServerErrorOnFailure',
    required: false,
    description: 'true: answer 500 instead of 200 when the job Failed (as Durable Functions does). Default: false.',
    schema: { type: 'boolean' },
  })
  @ApiHeader(PREFER_HEADER)
  @ApiAcceptedResponse({
    type: StatusPayload,
    description: 'Pending or Running: poll again after Retry-After.',
    headers: { Location: LOCATION_HEADER, 'Retry-After': POLL_RETRY_AFTER_HEADER, 'Preference-Applied': PREFERENCE_APPLIED_HEADER },
  })
  @ApiOkResponse({
    type: StatusPayload,
    description: 'Completed (output holds the result), Failed (output.error) or Terminated (output.reason).',
    headers: { 'Preference-Applied': PREFERENCE_APPLIED_HEADER },
  })
  @ApiResponse({
    status: 500,
    description:
      'Failed, with returnInternalServerErrorOnFailure=true: the status payload (application/json). ' +
      'Or an unexpected error (application/problem+json).',
    headers: { 'Preference-Applied': PREFERENCE_APPLIED_HEADER },
    content: { 'application/json': { schema: STATUS_PAYLOAD }, [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_DETAILS } },
  })
  @ApiProblemResponse(400, `${INVALID_ID} Or returnInternalServerErrorOnFailure is neither true nor false.`)
  @ApiProblemResponse(404, 'No job has this id (or it belongs to another principal).')
  @ApiProblemResponse(410, 'The job was removed by retention or purged; goneAt says when.')
  @ApiProblemResponse(414, URL_TOO_LONG)
  @ApiUnavailableProblem('Redis is unreachable.')
  async status(
    @Param('instanceId') instanceId: string,
    @Query('returnInternalServerErrorOnFailure') failureFlag: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StatusPayload> {
    checkInstanceId(instanceId);
    const options = { returnInternalServerErrorOnFailure: parseFlag(failureFlag) };
    let status = await this.jobs.status(instanceId, callerOf(request), options);
    const waitMs = this.waiter.allowedWaitMs(preferredWaitSeconds(request.headers.prefer));
    if (waitMs > 0 && status.mapping.inProgress) {
      status = await this.awaitEnd(instanceId, request, waitMs, options);
      reply.header('preference-applied', `wait=${waitMs / 1000}`);
    }
    return this.sendStatus(status, request, reply, instanceId);
  }

  @Post(':instanceId/terminate')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Terminate a report job (Durable’s terminatePostUri)',
    description:
      'A job not yet running leaves the queue at once and becomes Terminated. A running job is aborted ' +
      'on the worker that runs it and then becomes Terminated; it is not retried. Answers with the ' +
      'current status.',
  })
  @ApiParam(INSTANCE_ID_PARAM)
  @ApiQuery(REASON_QUERY)
  @ApiAcceptedResponse({
    type: StatusPayload,
    description: 'Termination done (Terminated) or under way (still Running until the worker has stopped it).',
    headers: { Location: LOCATION_HEADER, 'Retry-After': POLL_RETRY_AFTER_HEADER },
  })
  @ApiProblemResponse(400, `${INVALID_ID} Or the reason is longer than ${MAX_REASON_LENGTH} characters.`)
  @ApiProblemResponse(404, 'No job has this id (or it belongs to another principal).')
  @ApiProblemResponse(410, 'The job has already ended, or is gone.')
  @ApiProblemResponse(414, URL_TOO_LONG)
  @ApiProblemResponse(413, 'The body (none is needed) is larger than BODY_LIMIT_BYTES.')
  @ApiProblemResponse(415, 'A body (none is needed) whose Content-Type is not application/json.')
  @ApiUnavailableProblem('Redis is unreachable.')
  terminate(
    @Param('instanceId') instanceId: string,
    @Query('reason') reason: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StatusPayload> {
    return this.cancel(instanceId, reason, request, reply);
  }

  @Delete(':instanceId')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel a report job (DELETE on the status resource)',
    description: 'The same as POST …/terminate.',
  })
  @ApiParam(INSTANCE_ID_PARAM)
  @ApiQuery(REASON_QUERY)
  @ApiAcceptedResponse({
    type: StatusPayload,
    description: 'Termination done (Terminated) or under way (still Running until the worker has stopped it).',
    headers: { Location: LOCATION_HEADER, 'Retry-After': POLL_RETRY_AFTER_HEADER },
  })
  @ApiProblemResponse(400, `${INVALID_ID} Or the reason is longer than ${MAX_REASON_LENGTH} characters.`)
  @ApiProblemResponse(404, 'No job has this id (or it belongs to another principal).')
  @ApiProblemResponse(410, 'The job has already ended, or is gone.')
  @ApiProblemResponse(414, URL_TOO_LONG)
  @ApiUnavailableProblem('Redis is unreachable.')
  async cancel(
    @Param('instanceId') instanceId: string,
    @Query('reason') reason: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StatusPayload> {
    checkInstanceId(instanceId);
    const why = checkReason(reason);
    const status = await this.jobs.terminate(instanceId, callerOf(request), why);
    // 202 as Durable answers a termination, with Retry-After as on every 202 of this API.
    reply
      .status(202)
      .header('location', this.urls(request, instanceId).status)
      .header('retry-after', String(status.retryAfterSeconds ?? MIN_RETRY_AFTER_SECONDS));
    return status.payload;
  }

  @Delete(':instanceId/history')
  @ApiOperation({
    summary: 'Purge a finished report job (Durable’s purgeHistoryDeleteUri)',
    description: 'Deletes the job’s record now instead of at the end of its retention; its status URL then answers 410.',
  })
  @ApiParam(INSTANCE_ID_PARAM)
  @ApiOkResponse({ type: PurgeResult, description: 'The job’s record is deleted.' })
  @ApiProblemResponse(400, INVALID_ID)
  @ApiProblemResponse(404, 'No job has this id (or it belongs to another principal).')
  @ApiProblemResponse(409, 'The job is still Pending or Running.')
  @ApiProblemResponse(410, 'Already purged or expired.')
  @ApiProblemResponse(414, URL_TOO_LONG)
  @ApiUnavailableProblem('Redis is unreachable.')
  async purge(@Param('instanceId') instanceId: string, @Req() request: FastifyRequest): Promise<PurgeResult> {
    checkInstanceId(instanceId);
    await this.jobs.purge(instanceId, callerOf(request));
    return { instancesDeleted: 1 };
  }

  /**
   * The 503 of a failed submit says what became of the job: certainly not queued, or
   * perhaps queued under an id the client can check (and a retry with the same
   * Idempotency-Key lands on).
   */
  private submitProblem(error: unknown, request: FastifyRequest, idempotent: boolean): unknown {
    const retryAfter = { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) };
    if (error instanceof EnqueueUnconfirmedError) {
      const advice = idempotent
        ? 'Retry with the same Idempotency-Key: it lands on this job, whether or not it was queued.'
        : 'Check its statusQueryGetUri before submitting again, and send an Idempotency-Key so that a retry lands on the same job.';
      const detail = `Redis did not confirm the job in time, so it may have been queued as ${error.instanceId}. ${advice}`;
      return new ProblemException(503, detail, undefined, {
        instanceId: error.instanceId,
        statusQueryGetUri: this.urls(request, error.instanceId).status,
      }).withHeaders(retryAfter);
    }
    if (error instanceof JobNotQueuedError) {
      return new ProblemException(503, 'The job store is unavailable; the job was not queued. Try again after Retry-After.').withHeaders(retryAfter);
    }
    return error;
  }

  private async awaitEnd(
    instanceId: string,
    request: FastifyRequest,
    waitMs: number,
    options: { returnInternalServerErrorOnFailure?: boolean } = {},
  ): Promise<JobStatus> {
    const caller = callerOf(request);
    const read = () => this.jobs.status(instanceId, caller, options);
    // A job that is gone (410) or unknown (404) has ended as far as waiting goes.
    const hasEnded = () =>
      read().then(
        (status) => !status.mapping.inProgress,
        (error: unknown) => error instanceof ProblemException,
      );
    await this.waiter.waitForEnd(instanceId, waitMs, hasEnded);
    return read();
  }

  private sendStatus(status: JobStatus, request: FastifyRequest, reply: FastifyReply, instanceId: string): StatusPayload {
    reply.status(status.mapping.httpStatus);
    if (status.retryAfterSeconds !== undefined) {
      reply.header('location', this.urls(request, instanceId).status).header('retry-after', String(status.retryAfterSeconds));
    }
    return status.payload;
  }

  private urls(request: FastifyRequest, instanceId: string): { status: string } {
    return { status: statusUrl(publicBaseUrl(this.env.PUBLIC_BASE_URL, request.protocol, request.host), instanceId) };
  }
}

export function checkInstanceId(instanceId: string): void {
  if (!INSTANCE_ID.test(instanceId)) {
    throw new ProblemException(400, 'instanceId must be a lowercase UUID as returned by POST /api/jobs/reports.');
  }
}

/** An ISO 8601 time as epoch ms; forms the validator accepts but Date cannot read are 400. */
function parseTime(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new ProblemException(400, `${field} must be a date-time such as 2026-11-26T10:00:00Z.`, [
      { field, message: 'not a date-time' },
    ]);
  }
  return time;
}

function checkReason(reason: string | undefined): string {
  if (reason === undefined) return 'Terminated by the client';
  if (reason.length > MAX_REASON_LENGTH) {
    throw new ProblemException(400, `reason must be at most ${MAX_REASON_LENGTH} characters.`, [{ field: 'reason', message: 'too long' }]);
  }
  return reason;
}

function parseFlag(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ProblemException(400, 'returnInternalServerErrorOnFailure must be true or false.', [
    { field: 'returnInternalServerErrorOnFailure', message: 'must be true or false' },
  ]);
}
