import { Module } from '@nestjs/common';
import { CallbackPolicy } from './callback-policy';
import { JobStore } from './job-store';
import { JobEventStreams } from './job-event-streams';
import { JobEventsController } from './job-events.controller';
import { JobWaiter } from './job-waiter';
import { QueueEventsFeed } from './queue-events-feed';
import { ReportJobsService } from './report-jobs.service';
import { ReportsController } from './reports.controller';

@Module({
  controllers: [ReportsController, JobEventsController],
  providers: [JobStore, QueueEventsFeed, JobWaiter, JobEventStreams, ReportJobsService, CallbackPolicy],
  exports: [JobStore],
})
export class ReportsModule {}
