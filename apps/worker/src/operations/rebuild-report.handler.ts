import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReportJobInput, ReportResult } from '@report-jobs/contract';
import type { OperationContext, OperationHandler } from './operation-handler';

/** The seed's activity: simulated work of `delay_seconds`, reporting progress each second. */
@Injectable()
export class RebuildReportHandler implements OperationHandler {
  readonly operation = 'rebuild-report' as const;

  async run(input: ReportJobInput, context: OperationContext): Promise<ReportResult> {
    const total = input.delay_seconds;
    for (let done = 0; done < total; done++) {
      await sleep(1000, undefined, { signal: context.signal });
      await context.reportProgress(
        Math.floor(((done + 1) * 100) / total),
        `Rebuilding report (${done + 1} of ${total} s)`,
      );
    }
    return { customerId: input.customer_id, operation: input.operation };
  }
}
