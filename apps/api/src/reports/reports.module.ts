import { Module } from '@nestjs/common';
import { CallbackPolicy } from './callback-policy';
import { JobStore } from './job-store';
import { JobWaiter } from './job-waiter';
import { ReportJobsService } from './report-jobs.service';
import { ReportsController } from './reports.controller';

@Module({
  controllers: [ReportsController],
  providers: [JobStore, JobWaiter, ReportJobsService, CallbackPolicy],
  exports: [JobStore],
})
export class ReportsModule {}
