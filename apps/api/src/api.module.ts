import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AppConfigModule, Environment } from '@report-jobs/config';
import { loggerOptions } from '@report-jobs/logging';
import { TracingFlush } from '@report-jobs/tracing';
import { ProblemDetailsFilter } from './http/problem-details';
import { requestLogFields } from './http/request-logging';
import { strictValidationPipe } from './http/validation';
import { AuthModule } from './auth/auth.module';
import { HealthModule } from './health/health.module';
import { ApiMetricsModule, MetricsEndpointModule } from './metrics/metrics.module';
import { ReportsModule } from './reports/reports.module';

@Module({
  imports: [
    AppConfigModule,
    LoggerModule.forRootAsync({
      inject: [Environment],
      useFactory: (env: Environment) => ({
        ...loggerOptions('api', env.LOG_LEVEL, requestLogFields),
        // Requests are logged from Fastify's hooks (logRequests), not by Nest middleware.
        forRoutes: [],
      }),
    }),
    ApiMetricsModule,
    ReportsModule,
    AuthModule,
    HealthModule,
    MetricsEndpointModule,
  ],
  providers: [
    { provide: APP_PIPE, useFactory: strictValidationPipe },
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    TracingFlush,
  ],
})
export class ApiModule {}
