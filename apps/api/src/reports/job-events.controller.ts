import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiGoneResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf } from '../http/caller';
import { PROBLEM_CONTENT_TYPE } from '../http/problem-details';
import { ProblemDetails } from './dto/report-job.responses';
import { JobEventStreams } from './job-event-streams';
import { checkInstanceId } from './reports.controller';

const PROBLEM = {
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDetails) } } },
};
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again.', required: true, schema: { type: 'integer', minimum: 1 } } };
const WWW_AUTHENTICATE = { 'WWW-Authenticate': { description: 'How to authenticate: Bearer.', required: true, schema: { type: 'string', pattern: '^Bearer' } } };

const EVENT_FORMAT =
  'Each event is `id: <version>`, `event: status`, `data: <the status payload as JSON>` (the body the status URL ' +
  'answers). The first event is the current status, sent at once; then one event per change of state, attempt ' +
  'or progress; the final status (Completed, Failed, Terminated) is the last event, and the stream closes. ' +
  'Changes that come faster than they can be read are sent as their latest state. Comment lines (`: heartbeat`) ' +
  'come every SSE_HEARTBEAT_SECONDS. Ids increase along the job’s life: reconnect with `Last-Event-ID` and only ' +
  'newer events are sent (the current status at once if it is newer); an id this API did not send counts as none.';

const EXAMPLE =
  'id: 1.1.2\nevent: status\ndata: {"name":"report","instanceId":"3c1f8f0e-6f9a-4b7e-9d55-2a8e0c4b1f27","runtimeStatus":"Running",' +
  '"customStatus":{"progress":40,"message":"Rebuilding report (2 of 5 s)"},"output":null,…}\n\n: heartbeat\n\n';

/** Server-Sent Events of one job: GET /api/jobs/reports/{instanceId}/events. */
@ApiTags('report jobs')
@ApiBearerAuth()
@ApiSecurity('api-key')
@ApiExtraModels(ProblemDetails)
@Controller('api/jobs/reports')
export class JobEventsController {
  constructor(private readonly streams: JobEventStreams) {}

  @Get(':instanceId/events')
  @ApiOperation({
    summary: 'Follow a report job as Server-Sent Events',
    description: `A text/event-stream of the job's status, instead of polling. ${EVENT_FORMAT}`,
  })
  @ApiParam({ name: 'instanceId', format: 'uuid', description: 'The instanceId returned when the job was started.' })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'The id of the last event received, when reconnecting (e.g. 1.1.2): only newer events are sent.',
  })
  @ApiOkResponse({
    description: `The event stream. ${EVENT_FORMAT}`,
    content: { 'text/event-stream': { schema: { type: 'string' }, example: EXAMPLE } },
  })
  @ApiNoContentResponse({
    description: 'The job has ended and Last-Event-ID names its final event: nothing more will come (EventSource stops reconnecting).',
  })
  @ApiBadRequestResponse({ description: 'The id is not a UUID.', ...PROBLEM })
  @ApiUnauthorizedResponse({ description: 'Missing or invalid API key.', headers: WWW_AUTHENTICATE, ...PROBLEM })
  @ApiNotFoundResponse({ description: 'No job has this id (or it is another principal’s).', ...PROBLEM })
  @ApiGoneResponse({ description: 'The job was removed by retention or purged; goneAt says when.', ...PROBLEM })
  @ApiTooManyRequestsResponse({
    description: 'Over the caller’s per-minute budget, or SSE_MAX_STREAMS_PER_PRINCIPAL streams already open on this API process.',
    headers: RETRY_AFTER,
    ...PROBLEM,
  })
  @ApiServiceUnavailableResponse({ description: 'Redis is unreachable, or the API is shutting down.', headers: RETRY_AFTER, ...PROBLEM })
  async events(@Param('instanceId') instanceId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    checkInstanceId(instanceId);
    const lastEventId = request.headers['last-event-id'];
    await this.streams.open(instanceId, callerOf(request), typeof lastEventId === 'string' ? lastEventId : undefined, request, reply);
  }
}
