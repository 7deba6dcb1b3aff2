import { Global, Module } from '@nestjs/common';
import { Environment } from '@report-jobs/config';
import { ReportsModule } from '../reports/reports.module';
import { ApiMetrics } from './api-metrics';
import { MetricsServer } from './metrics-server';

/** The API's metrics, for any module to record into (job submissions). */
@Global()
@Module({
  providers: [{ provide: ApiMetrics, inject: [Environment], useFactory: (env: Environment) => new ApiMetrics(env.METRICS_PORT !== 0) }],
  exports: [ApiMetrics],
})
export class ApiMetricsModule {}

/** The metrics listener; apart from ApiMetricsModule because it reads the queue through the job store. */
@Module({
  imports: [ReportsModule],
  providers: [MetricsServer],
})
export class MetricsEndpointModule {}
