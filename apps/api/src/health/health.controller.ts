import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator';
import { JobStore } from '../reports/job-store';

/** Probes for orchestrators (docker compose health checks, Kubernetes). */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly store: JobStore) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers HTTP' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: "Readiness: every shard's Redis master accepts a write within a second" })
  @ApiOkResponse({ schema: { example: { status: 'ok', redis: 'up' } } })
  @ApiServiceUnavailableResponse({ description: 'Redis is unreachable (problem+json).' })
  async ready(): Promise<{ status: 'ok'; redis: 'up' }> {
    await this.store.ping();
    return { status: 'ok', redis: 'up' };
  }
}
