import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Environment } from '@report-jobs/config';
import {
  DEFAULT_DELAY_SECONDS,
  DEFAULT_OPERATION,
  mapJobState,
  type ReportJobData,
  type ReportJobInput,
  type RuntimeStatus,
  type StatusMapping,
} from '@report-jobs/contract';
import { isoSeconds, toStatusPayload, type GoneRecord, type JobEnd, type JobLookup } from '@report-jobs/queue';
import type { Caller } from '../http/caller';
import { ApiMetrics } from '../metrics/api-metrics';
import { ProblemException, ServiceUnavailableError } from '../http/problem-details';
import { CallbackPolicy } from './callback-policy';
import type { CreateReportJobDto } from './dto/create-report-job.dto';
import type { StatusPayload } from './dto/report-job.responses';
import { fingerprintOf, instanceIdForKey } from './idempotency';
import { JobStore, type IndexEntry } from './job-store';
import { jobVersion, type JobVersion } from './job-version';
import { retryAfterForNewJob, retryAfterSeconds } from './retry-after';

export interface StartedJob {
  instanceId: string;
  retryAfterSeconds: number;
  /** This request created the job; false for a repeat that landed on an existing one. */
  created: boolean;
  /** A repeat whose job has been purged or has expired: its status URL answers 410. */
  gone?: boolean;
}

export interface JobStatus {
  payload: StatusPayload;
  mapping: StatusMapping;
  /** Set while the job is in progress. */
  retryAfterSeconds?: number;
  /** Where the job stands in its life; the id of its events. */
  version: JobVersion;
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
    private readonly callbacks: CallbackPolicy,
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
    if (request.callback_url !== undefined) data.callbackUrl = await this.callbacks.check(request.callback_url, caller.principal);
    const started = { retryAfterSeconds: retryAfterForNewJob(input.delay_seconds) };
    if (idempotencyKey === undefined) {
      const instanceId = randomUUID();
      await this.enqueue(instanceId, data);
      return this.created(instanceId, input, started);
    }
    const instanceId = instanceIdForKey(await this.store.idempotencySecret(), caller.principal, idempotencyKey);
    data.requestFingerprint = fingerprintOf(input, data.callbackUrl);
    data.submissionId = randomUUID();
    // A key whose job exists, ended or left a record is answered with that job: adding
    // again would start a purged or expired job anew under the same id.
    const existing = await this.store.lookup(instanceId);
    if (this.checkSameRequest(existing, data.requestFingerprint)) {
      // A repeat after an add whose answer was lost (503) also completes its indexing.
      if (existing.found === 'job') await this.store.index(instanceId, caller.principal);
      return { instanceId, created: false, ...started, gone: existing.found === 'gone' };
    }
    await this.enqueue(instanceId, data);
    // Concurrent repeats all add; BullMQ keeps the first job. Its body must be this one, and
    // the request whose submission id it kept is the one that created it (this read is
    // needed anyway, so telling costs no extra round trip).
    const kept = await this.store.lookup(instanceId);
    this.checkSameRequest(kept, data.requestFingerprint);
    const keptData = kept.found === 'job' ? (kept.job.data as Partial<ReportJobData> | undefined) : undefined;
    if (keptData?.submissionId === data.submissionId) return this.created(instanceId, input, started);
    return { instanceId, created: false, ...started, gone: kept.found === 'gone' };
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

  /**
   * True when the key was used before; 422 when it was used with another body. The record
   * of a purged or expired job keeps the fingerprint for as long as the key stands.
   */
  private checkSameRequest(found: JobLookup, fingerprint: string): boolean {
    if (found.found === 'none') return false;
    const stored =
      found.found === 'job' ? (found.job.data as Partial<ReportJobData> | undefined)?.requestFingerprint : found.gone.requestFingerprint;
    // Only records written before fingerprints were kept lack one; the key still stands for that job.
    if (stored !== undefined && stored !== fingerprint) {
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
    if (found.found === 'gone') throw gone(found.gone);
    const job = found.job;
    const mapping = mapJobState(job.state, Math.max(job.attemptsStarted, job.attemptsMade), {
      ...options,
      endedByTermination: job.terminated !== undefined,
    })!;
    return {
      payload: toStatusPayload(job, mapping),
      mapping,
      retryAfterSeconds: mapping.inProgress ? retryAfterSeconds(job, now, this.env.WORKER_CONCURRENCY) : undefined,
      version: jobVersion(job, mapping),
    };
  }

  /**
   * Terminates a job in one atomic step: one still queued (or waiting for a retry) ends
   * Terminated at once; a running one is aborted on whichever worker runs it. A job that
   * has ended answers 410 and keeps its end and its result, however close the call came.
   */
  async terminate(instanceId: string, caller: Caller, reason: string): Promise<JobStatus> {
    const done = await this.store.terminate(instanceId, visibleTo(caller), reason, Date.now());
    switch (done.outcome) {
      case 'none':
        throw notFound(instanceId);
      case 'gone':
        throw gone(done.record);
      case 'ended':
        throw new ProblemException(410, `Report job ${instanceId} has already ended (${ENDS[done.end]}).`);
      default:
        return this.status(instanceId, caller);
    }
  }

  /** Deletes a finished job, leaving a record that answers 410. Pending or running jobs: 409. */
  async purge(instanceId: string, caller: Caller): Promise<void> {
    const done = await this.store.purge(instanceId, visibleTo(caller), Date.now());
    switch (done.outcome) {
      case 'none':
        throw notFound(instanceId);
      case 'gone':
        throw gone(done.record);
      case 'running':
        throw new ProblemException(409, `Report job ${instanceId} has not ended; terminate it or wait until it ends.`);
    }
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
    if (found.found !== 'job') return undefined;
    return this.describe(instanceId, found, now).payload;
  }

  /** Hides other callers' jobs: to them a job is as if it never existed. */
  private visible(found: JobLookup, caller: Caller): JobLookup {
    if (caller.admin || found.found === 'none') return found;
    const owner = found.found === 'job' ? (found.job.data as Partial<ReportJobData>).owner : found.gone.owner;
    return owner === caller.principal ? found : { found: 'none' };
  }
}

/** Whose jobs a caller may see: its own, or any for an admin (undefined). */
function visibleTo(caller: Caller): string | undefined {
  return caller.admin ? undefined : caller.principal;
}

/** How a finished job's end reads in a 410's detail. */
const ENDS: Record<JobEnd, RuntimeStatus> = { completed: 'Completed', failed: 'Failed', terminated: 'Terminated' };

function notFound(instanceId: string): ProblemException {
  return new ProblemException(404, `No report job has instanceId ${instanceId}.`);
}

function gone(record: GoneRecord): ProblemException {
  const what = record.kind === 'purged' ? 'was purged' : 'expired under the retention policy';
  return new ProblemException(410, `Report job ${record.id} ${what} at ${isoSeconds(record.at)}.`, undefined, {
    goneAt: isoSeconds(record.at),
  });
}

