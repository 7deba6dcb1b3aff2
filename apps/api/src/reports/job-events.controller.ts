import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblemResponse, ApiUnauthorizedProblem, ApiUnexpectedProblem, retryAfterHeader } from '../http/api-responses';
import { callerOf } from '../http/caller';
import { ProblemDetails } from './dto/report-job.responses';
import { JobEventStreams } from './job-event-streams';
import { checkInstanceId } from './reports.controller';

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
  @ApiProblemResponse(400, 'The id is not a UUID.')
  @ApiUnauthorizedProblem()
  @ApiProblemResponse(404, 'No job has this id (or it is another principal’s).')
  @ApiProblemResponse(410, 'The job was removed by retention or purged; goneAt says when.')
  @ApiProblemResponse(414, 'The URL is too long (an id far longer than a UUID).')
  @ApiProblemResponse(
    429,
    'Over the caller’s per-minute budget, or SSE_MAX_STREAMS_PER_PRINCIPAL streams already open on this API process.',
    { 'Retry-After': retryAfterHeader('Seconds to wait before trying again.', 60) },
  )
  @ApiUnexpectedProblem()
  @ApiProblemResponse(503, 'Redis is unreachable, or the API is shutting down.', {
    'Retry-After': retryAfterHeader('Seconds to wait before trying again.'),
  })
  async events(@Param('instanceId') instanceId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    checkInstanceId(instanceId);
    const lastEventId = request.headers['last-event-id'];
    await this.streams.open(instanceId, callerOf(request), typeof lastEventId === 'string' ? lastEventId : undefined, request, reply);
  }
}
