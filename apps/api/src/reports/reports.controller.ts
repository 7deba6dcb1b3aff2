import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiExtraModels,
  ApiInternalServerErrorResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Environment } from '@report-jobs/config';
import { ProblemException } from '../http/problem-details';
import { publicBaseUrl, statusUrl } from '../http/public-url';
import { CreateReportJobDto } from './dto/create-report-job.dto';
import { AcceptedResponse, ProblemDetails, StatusPayload } from './dto/report-job.responses';
import { ReportJobsService } from './report-jobs.service';

const INSTANCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const LOCATION_HEADER = { description: 'Absolute status URL to poll.', schema: { type: 'string', format: 'uri' } };
const RETRY_AFTER_HEADER = {
  description: 'Seconds to wait before polling again, estimated from the job’s state (1–30).',
  schema: { type: 'integer' },
};
const PROBLEM = { type: ProblemDetails, content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetails) } } } };

/** Translates HTTP to ReportJobsService calls and back; no job logic lives here. */
@ApiTags('report jobs')
@ApiExtraModels(ProblemDetails)
@Controller('api/jobs/reports')
export class ReportsController {
  constructor(
    private readonly jobs: ReportJobsService,
    private readonly env: Environment,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start a report job',
    description:
      'Validates the request, queues the job and answers 202 once Redis has acknowledged it. ' +
      'Poll statusQueryGetUri (also in Location) no sooner than Retry-After says.',
  })
  @ApiAcceptedResponse({
    type: AcceptedResponse,
    description: 'The job is durably queued.',
    headers: { Location: LOCATION_HEADER, 'Retry-After': RETRY_AFTER_HEADER },
  })
  @ApiBadRequestResponse({ description: 'Invalid fields (named in errors) or malformed JSON.', ...PROBLEM })
  @ApiPayloadTooLargeResponse({ description: 'The body is larger than BODY_LIMIT_BYTES.', ...PROBLEM })
  @ApiUnsupportedMediaTypeResponse({ description: 'Content-Type is not application/json.', ...PROBLEM })
  @ApiServiceUnavailableResponse({
    description: 'Redis is unreachable; nothing was queued.',
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
    ...PROBLEM,
  })
  async start(
    @Body() body: CreateReportJobDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AcceptedResponse> {
    const started = await this.jobs.start(body, request.id);
    const url = statusUrl(publicBaseUrl(this.env.PUBLIC_BASE_URL, request.protocol, request.host), started.instanceId);
    reply.header('location', url).header('retry-after', String(started.retryAfterSeconds));
    return { status: 'accepted', instanceId: started.instanceId, statusQueryGetUri: url };
  }

  @Get(':instanceId')
  @ApiOperation({
    summary: 'Get the status of a report job',
    description:
      '202 while the job is Pending or Running (with Location and Retry-After), 200 once it is ' +
      'Completed, Failed or Terminated. With returnInternalServerErrorOnFailure=true a Failed job answers 500.',
  })
  @ApiParam({ name: 'instanceId', format: 'uuid', description: 'The instanceId returned when the job was started.' })
  @ApiQuery({
    name: 'returnInternalServerErrorOnFailure',
    required: false,
    type: Boolean,
    description: 'Answer 500 instead of 200 when the job Failed.',
  })
  @ApiAcceptedResponse({
    type: StatusPayload,
    description: 'Pending or Running: poll again after Retry-After.',
    headers: { Location: LOCATION_HEADER, 'Retry-After': RETRY_AFTER_HEADER },
  })
  @ApiOkResponse({ type: StatusPayload, description: 'Completed (output holds the result), Failed or Terminated.' })
  @ApiInternalServerErrorResponse({
    type: StatusPayload,
    description: 'Failed, when returnInternalServerErrorOnFailure=true.',
  })
  @ApiBadRequestResponse({ description: 'The id is not a UUID, or the query is invalid.', ...PROBLEM })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...PROBLEM })
  @ApiServiceUnavailableResponse({ description: 'Redis is unreachable.', ...PROBLEM })
  async status(
    @Param('instanceId') instanceId: string,
    @Query('returnInternalServerErrorOnFailure') failureFlag: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StatusPayload> {
    if (!INSTANCE_ID.test(instanceId)) {
      throw new ProblemException(400, 'instanceId must be a lowercase UUID as returned by POST /api/jobs/reports.');
    }
    const status = await this.jobs.status(instanceId, {
      returnInternalServerErrorOnFailure: parseFlag(failureFlag),
    });
    if (!status) throw new ProblemException(404, `No report job has instanceId ${instanceId}.`);
    reply.status(status.mapping.httpStatus);
    if (status.retryAfterSeconds !== undefined) {
      const url = statusUrl(publicBaseUrl(this.env.PUBLIC_BASE_URL, request.protocol, request.host), instanceId);
      reply.header('location', url).header('retry-after', String(status.retryAfterSeconds));
    }
    return status.payload;
  }
}

function parseFlag(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ProblemException(400, 'returnInternalServerErrorOnFailure must be true or false.', [
    { field: 'returnInternalServerErrorOnFailure', message: 'must be true or false' },
  ]);
}
