import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator';
import { ApiUnavailableProblem, ApiUnexpectedProblem } from '../http/api-responses';
import { ClosedSchema } from '../http/closed-schema';
import { JobStore } from '../reports/job-store';

@ClosedSchema()
class Liveness {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

@ClosedSchema()
class Readiness {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
  @ApiProperty({ enum: ['up'] }) redis: 'up';
}

/** Probes for orchestrators (docker compose health checks, Kubernetes). */
@ApiTags('health')
@Public()
@ApiUnexpectedProblem()
@Controller('health')
export class HealthController {
  constructor(private readonly store: JobStore) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers HTTP' })
  @ApiOkResponse({ type: Liveness, description: 'The process answers.' })
  live(): Liveness {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: "Readiness: every shard's Redis master accepts a write within a second" })
  @ApiOkResponse({ type: Readiness, description: "Every shard's Redis master accepts a write." })
  @ApiUnavailableProblem('Redis is unreachable, or a shard\'s master refuses writes.')
  async ready(): Promise<Readiness> {
    await this.store.ping();
    return { status: 'ok', redis: 'up' };
  }
}
