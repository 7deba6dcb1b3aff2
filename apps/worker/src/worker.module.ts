import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfigModule, Environment } from '@report-jobs/config';
import { loggerOptions } from '@report-jobs/logging';
import { TracingFlush } from '@report-jobs/tracing';
import { HealthServer } from './health/health-server';
import { WorkerMetrics } from './metrics/worker-metrics';
import { OperationsModule } from './operations/operations.module';
import { CancellationListener } from './processors/cancellation-listener';
import { ReportJobProcessor } from './processors/report-job.processor';
import { ReportWorker } from './processors/report-worker';
import { TerminationRequests } from './processors/termination-requests';
import { WorkerQueue } from './queue/worker-queue';
import { RetentionSweeper } from './retention/retention-sweeper';
import { WebhookDeliveryProcessor } from './webhooks/webhook-delivery.processor';
import { WebhookQueue } from './webhooks/webhook-queue';
import { WebhookRelay } from './webhooks/webhook-relay';
import { WebhookWorker } from './webhooks/webhook-worker';

@Module({
  imports: [
    AppConfigModule,
    LoggerModule.forRootAsync({
      inject: [Environment],
      useFactory: (env: Environment) => loggerOptions('worker', env.LOG_LEVEL),
    }),
    OperationsModule,
  ],
  providers: [
    ReportJobProcessor,
    ReportWorker,
    WorkerQueue,
    TerminationRequests,
    CancellationListener,
    RetentionSweeper,
    HealthServer,
    WorkerMetrics,
    TracingFlush,
    WebhookQueue,
    WebhookRelay,
    WebhookDeliveryProcessor,
    WebhookWorker,
  ],
})
export class WorkerModule {}
