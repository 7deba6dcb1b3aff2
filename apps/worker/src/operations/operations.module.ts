import { Module } from '@nestjs/common';
import { Environment } from '@report-jobs/config';
import { OPERATION_HANDLERS, type OperationHandler } from './operation-handler';
import { RebuildReportHandler } from './rebuild-report.handler';
import { SimulatedFailures } from './simulated-failures';

/** Every operation handler. A new operation goes in REPORT_OPERATIONS (the contract) and its handler here. */
const HANDLERS = [RebuildReportHandler];

@Module({
  providers: [
    ...HANDLERS,
    {
      provide: OPERATION_HANDLERS,
      inject: HANDLERS,
      useFactory: (...handlers: OperationHandler[]) => handlers,
    },
    {
      provide: SimulatedFailures,
      inject: [Environment],
      useFactory: (env: Environment) => new SimulatedFailures(env.SIMULATED_FAILURES),
    },
  ],
  exports: [OPERATION_HANDLERS, SimulatedFailures],
})
export class OperationsModule {}
