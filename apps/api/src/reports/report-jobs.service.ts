import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Environment } from '@report-jobs/config';
import {
  DEFAULT_DELAY_SECONDS,
  DEFAULT_OPERATION,
  mapJobState,
  TERMINATED,
  type ReportJobData,
  type ReportJobInput,
  type RuntimeStatus,
  type StatusMapping,
} from '@report-jobs/contract';
import type { GoneRecord, JobLookup } from '@report-jobs/queue';
import type { Caller } from '../http/caller';
import { ApiMetrics } from '../metrics/api-metrics';
import { ProblemException, ServiceUnavailableError } from '../http/problem-details';
import type { CreateReportJobDto } from './dto/create-report-job.dto';
import type { StatusPayload } from './dto/report-job.responses';
import { fingerprintOf, instanceIdForKey } from './idempotency';
import { JobStore, type IndexEntry } from './job-store';
import { retryAfterForNewJob, retryAfterSeconds } from './retry-after';
import { isoSeconds, terminatedPayload, toStatusPayload } from './status-payload';

export interface StartedJob {
  instanceId: string;
  retryAfterSeconds: number;
  /** This request created the job; false for a repeat that landed on an existing one. */
  created: boolean;
}

export interface JobStatus {
  payload: StatusPayload;
  mapping: StatusMapping;
  /** Set while the job is in progress. */
  retryAfterSeconds?: number;
}

export interface ListQuery {
  runtimeStatus?: RuntimeStatus[];
  createdTimeFrom?: number;
  createdTimeTo?: number;
  top: number;
  after?: IndexEntry;
}

export interface JobPage {
  items: StatusPayload[];
  /** Where the next page starts; absent when the index had nothing more. */
  next?: IndexEntry;
}

/** Redis was unreachable or refused the add: no job was queued. */
export class JobNotQueuedError extends ServiceUnavailableError {
  override name = 'JobNotQueuedError';
}

/** Redis got the add but never answered: the job may have been queued under `instanceId`. */
export class EnqueueUnconfirmedError extends ServiceUnavailableError {
  override name = 'EnqueueUnconfirmedError';

  constructor(readonly instanceId: string) {
    super(`Redis did not confirm the job ${instanceId}`, true);
  }
}

/** How many index entries one listing request may examine, as a multiple of the page size. */
const LIST_SCAN_FACTOR = 5;

/**
 * The report jobs' use cases. A job belongs to the caller that created it; any other
 * caller (but an admin) is told it does not exist, so existence is never revealed.
 */
@Injectable()
export class ReportJobsService {
  constructor(
    private readonly store: JobStore,
    private readonly env: Environment,
    private readonly metrics: ApiMetrics,
  ) {}

  /**
   * Queues a job; resolves only once Redis has acknowledged it. With an idempotency key
   * the instance id is derived from the caller and the key, so every repeat lands on the
   * same job, however many arrive at once; a repeat with another body is refused (422).
   */
  async start(request: CreateReportJobDto, caller: Caller, correlationId: string, idempotencyKey?: string): Promise<StartedJob> {
    const input: ReportJobInput = {
      customer_id: request.customer_id,
      operation: request.operation ?? DEFAULT_OPERATION,
      delay_seconds: request.delay_seconds ?? DEFAULT_DELAY_SECONDS,
    };
    const data: ReportJobData = { input, correlationId, owner: caller.principal };
    const started = { retryAfterSeconds: retryAfterForNewJob(input.delay_seconds) };
    if (idempotencyKey === undefined) {
      const instanceId = randomUUID();
      await this.enqueue(instanceId, data);
      return this.created(instanceId, input, started);
    }
    const instanceId = instanceIdForKey(await this.store.idempotencySecret(), caller.principal, idempotencyKey);
    data.requestFingerprint = fingerprintOf(input);
    data.submissionId = randomUUID();
    // A key whose job exists, or was terminated or purged, is answered with that job: adding
    // again would bring a terminated job back to life under the same id.
    if (this.checkSameRequest(await this.store.lookup(instanceId), data.requestFingerprint)) {
      return { instanceId, created: false, ...started };
    }
    await this.enqueue(instanceId, data);
    // Concurrent repeats all add; BullMQ keeps the first job. Its body must be this one, and
    // the request whose submission id it kept is the one that created it (this read is
    // needed anyway, so telling costs no extra round trip).
    const stored = await this.store.lookup(instanceId);
    this.checkSameRequest(stored, data.requestFingerprint);
    if (storedData(stored)?.submissionId === data.submissionId) return this.created(instanceId, input, started);
    return { instanceId, created: false, ...started };
  }

  private created(instanceId: string, input: ReportJobInput, started: { retryAfterSeconds: number }): StartedJob {
    this.metrics.jobCreated(input.operation);
    return { instanceId, created: true, ...started };
  }

  /**
   * Adds the job; a failure says whether it was queued. When Redis got the add and no
   * answer came back (a timeout, a lost connection), it may have executed it: the error
   * then names the job, so that the client can look before submitting again.
   */
  private async enqueue(instanceId: string, data: ReportJobData): Promise<void> {
    try {
      await this.store.add(instanceId, data, Date.now());
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      throw error.mayHaveTakenEffect ? new EnqueueUnconfirmedError(instanceId) : new JobNotQueuedError(error.message);
    }
  }

  /** True when the key was used before; 422 when it was used with another body. */
  private checkSameRequest(found: JobLookup, fingerprint: string): boolean {
    if (found.found === 'none') return false;
    // Records of purged or expired jobs keep no body; the key still stands for that job.
    const stored = storedData(found)?.requestFingerprint ?? fingerprint;
    if (stored !== fingerprint) {
      throw new ProblemException(422, 'This Idempotency-Key was already used with a different request body.');
    }
    return true;
  }

  /** The job's status; 404 when it never existed (for this caller), 410 when it is gone. */
  async status(instanceId: string, caller: Caller, options: { returnInternalServerErrorOnFailure?: boolean } = {}): Promise<JobStatus> {
    return this.describe(instanceId, this.visible(await this.store.lookup(instanceId), caller), Date.now(), options);
  }

  private describe(
    instanceId: string,
    found: JobLookup,
    now: number,
    options: { returnInternalServerErrorOnFailure?: boolean } = {},
  ): JobStatus {
    if (found.found === 'none') throw notFound(instanceId);
    if (found.found === 'gone') {
      if (isShownAsTerminated(found.gone, now)) return { payload: terminatedPayload(found.gone), mapping: TERMINATED };
      throw gone(found.gone);
    }
    const job = found.job;
    const mapping = mapJobState(job.state, Math.max(job.attemptsStarted, job.attemptsMade), {
      ...options,
      terminateRequested: job.terminateRequested !== undefined,
    })!;
    return {
      payload: toStatusPayload(job, mapping),
      mapping,
      retryAfterSeconds: mapping.inProgress ? retryAfterSeconds(job, now, this.env.WORKER_CONCURRENCY) : undefined,
    };
  }

  /**
   * Terminates a job: one still queued (or waiting for a retry) leaves the queue at once;
   * a running one is aborted on whichever worker runs it. Finished jobs answer 410.
   */
  async terminate(instanceId: string, caller: Caller, reason: string): Promise<JobStatus> {
    const now = Date.now();
    const found = this.visible(await this.store.lookup(instanceId), caller);
    const current = this.describe(instanceId, found, now);
    if (!current.mapping.inProgress || found.found !== 'job') {
      throw new ProblemException(410, `Report job ${instanceId} has already ended (${current.payload.runtimeStatus}).`);
    }
    const job = found.job;
    const owner = (job.data as ReportJobData).owner;
    if (job.state !== 'active' && (await this.store.terminateQueued(job, owner, reason, now))) {
      return this.status(instanceId, caller);
    }
    if (!(await this.store.requestTermination(instanceId, reason, now))) throw notFound(instanceId);
    return this.status(instanceId, caller);
  }

  /** Deletes a finished job's record. Running jobs cannot be purged (409). */
  async purge(instanceId: string, caller: Caller): Promise<void> {
    const found = this.visible(await this.store.lookup(instanceId), caller);
    const current = this.describe(instanceId, found, Date.now());
    if (current.mapping.inProgress) {
      throw new ProblemException(409, `Report job ${instanceId} is ${current.payload.runtimeStatus}; terminate it or wait until it ends.`);
    }
    const owner = found.found === 'job' ? (found.job.data as ReportJobData).owner : found.found === 'gone' ? found.gone.owner : undefined;
    await this.store.purge(instanceId, owner ?? caller.principal, Date.now());
  }

  /**
   * A page of the caller's jobs (all jobs for an admin) in creation order. Filtering by
   * status happens on the page read, so a page may hold fewer than `top` items while
   * more remain; `next` says where to go on.
   */
  async list(caller: Caller, query: ListQuery): Promise<JobPage> {
    const owner = caller.admin ? undefined : caller.principal;
    const from = query.createdTimeFrom ?? 0;
    const to = query.createdTimeTo ?? Number.MAX_SAFE_INTEGER;
    const now = Date.now();
    const items: StatusPayload[] = [];
    let after = query.after;
    let budget = query.top * LIST_SCAN_FACTOR;
    while (items.length < query.top && budget > 0) {
      const entries = await this.store.indexPage(owner, from, to, after, Math.min(query.top, budget));
      if (entries.length === 0) return { items };
      budget -= entries.length;
      const found = await this.store.lookupMany(entries.map((entry) => entry.id));
      for (const [i, entry] of entries.entries()) {
        after = entry;
        const payload = this.listed(entry.id, this.visible(found[i], caller), now);
        if (payload && (!query.runtimeStatus || query.runtimeStatus.includes(payload.runtimeStatus))) {
          items.push(payload);
          if (items.length === query.top) break;
        }
      }
    }
    return { items, next: after };
  }

  private listed(instanceId: string, found: JobLookup, now: number): StatusPayload | undefined {
    if (found.found === 'none') return undefined;
    if (found.found === 'gone' && !isShownAsTerminated(found.gone, now)) return undefined;
    return this.describe(instanceId, found, now).payload;
  }

  /** Hides other callers' jobs: to them a job is as if it never existed. */
  private visible(found: JobLookup, caller: Caller): JobLookup {
    if (caller.admin || found.found === 'none') return found;
    const owner = found.found === 'job' ? (found.job.data as Partial<ReportJobData>).owner : found.gone.owner;
    return owner === caller.principal ? found : { found: 'none' };
  }
}

/** The job data a lookup found: the job's, or the copy a terminated job's record keeps. */
function storedData(found: JobLookup): Partial<ReportJobData> | undefined {
  if (found.found === 'none') return undefined;
  return (found.found === 'job' ? found.job.data : found.gone.data) as Partial<ReportJobData> | undefined;
}

function isShownAsTerminated(record: GoneRecord, now: number): boolean {
  return record.kind === 'terminated' && (record.visibleUntil ?? 0) > now;
}

function notFound(instanceId: string): ProblemException {
  return new ProblemException(404, `No report job has instanceId ${instanceId}.`);
}

function gone(record: GoneRecord): ProblemException {
  const when = record.kind === 'terminated' ? (record.visibleUntil ?? record.at) : record.at;
  const what = record.kind === 'purged' ? 'was purged' : 'expired under the retention policy';
  return new ProblemException(410, `Report job ${record.id} ${what} at ${isoSeconds(when)}.`, undefined, {
    goneAt: isoSeconds(when),
  });
}

