import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_DELAY_SECONDS,
  DEFAULT_OPERATION,
  mapJobState,
  type ReportJobInput,
  type StatusMapping,
} from '@report-jobs/contract';
import type { JobSnapshot } from '@report-jobs/queue';
import type { CreateReportJobDto } from './dto/create-report-job.dto';
import { JobStore } from './job-store';
import { retryAfterForNewJob, retryAfterSeconds } from './retry-after';
import { toStatusPayload } from './status-payload';
import type { StatusPayload } from './dto/report-job.responses';

export interface StartedJob {
  instanceId: string;
  retryAfterSeconds: number;
}

export interface JobStatus {
  payload: StatusPayload;
  mapping: StatusMapping;
  /** Set while the job is in progress. */
  retryAfterSeconds?: number;
}

@Injectable()
export class ReportJobsService {
  constructor(private readonly store: JobStore) {}

  /** Queues a job; resolves only once Redis has acknowledged it. */
  async start(request: CreateReportJobDto, correlationId: string): Promise<StartedJob> {
    const input: ReportJobInput = {
      customer_id: request.customer_id,
      operation: request.operation ?? DEFAULT_OPERATION,
      delay_seconds: request.delay_seconds ?? DEFAULT_DELAY_SECONDS,
    };
    const instanceId = randomUUID();
    await this.store.add(instanceId, { input, correlationId });
    return { instanceId, retryAfterSeconds: retryAfterForNewJob(input.delay_seconds) };
  }

  /** The job's status, or null when no job has that id. */
  async status(
    instanceId: string,
    options: { returnInternalServerErrorOnFailure?: boolean } = {},
  ): Promise<JobStatus | null> {
    const snapshot: JobSnapshot | null = await this.store.read(instanceId);
    if (!snapshot) return null;
    const mapping = mapJobState(snapshot.state, Math.max(snapshot.attemptsStarted, snapshot.attemptsMade), options);
    if (!mapping) return null;
    return {
      payload: toStatusPayload(snapshot, mapping),
      mapping,
      retryAfterSeconds: mapping.inProgress ? retryAfterSeconds(snapshot, Date.now()) : undefined,
    };
  }
}
