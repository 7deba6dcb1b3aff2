import { Module } from '@nestjs/common';
import { JobStore } from './job-store';
import { JobWaiter } from './job-waiter';
import { QueueEventsFeed } from './queue-events-feed';
import { ReportJobsService } from './report-jobs.service';
import { ReportsController } from './reports.controller';

@Module({
  controllers: [ReportsController],
  providers: [JobStore, QueueEventsFeed, JobWaiter, ReportJobsService],
  exports: [JobStore],
})
export class ReportsModule {}
