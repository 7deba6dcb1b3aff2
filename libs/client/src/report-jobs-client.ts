import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import { ConnectionError, errorFromAnswer, parseRetryAfter, UnexpectedAnswerError } from './errors';
import { followJobEvents, type FollowOptions, type JobEvent } from './job-events';
import type { paths } from './openapi';
import {
  DEFAULT_POLLING_POLICY,
  pause,
  pollDelaySeconds,
  preferWaitSeconds,
  transientDelaySeconds,
  type PollingPolicy,
} from './polling-policy';
import {
  isFinal,
  type AcceptedResponse,
  type CreateReportJob,
  type FinalStatus,
  type PurgeResult,
  type RuntimeStatus,
  type StatusPayload,
} from './types';

export interface ReportJobsClientOptions {
  /** The API's base URL, e.g. http://localhost:3000. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** The fetch to send requests with (default: the global fetch). */
  fetch?: (request: Request) => Promise<Response>;
  /** Bounds on waiting and retrying (see PollingPolicy). */
  polling?: Partial<PollingPolicy>;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface StartOptions extends CallOptions {
  /** Sent as Idempotency-Key: repeats of the request land on the same job. */
  idempotencyKey?: string;
  /**
   * Times the POST is sent again after a lost connection, a 503 or a 429 (after their
   * Retry-After), always with the same Idempotency-Key: one is generated when none is
   * given. 0: sent once, with no key unless one is given. Default 3.
   */
  retries?: number;
}

/** A job the service has queued. */
export interface StartedJob extends AcceptedResponse {
  /** Seconds the service asks to wait before reading its status. */
  retryAfterSeconds: number;
  /** The Idempotency-Key the job was started with (given or generated), if any. */
  idempotencyKey: string | undefined;
}

export interface WaitOptions extends CallOptions {
  /** Called with the status whenever it changes while the job has not ended (runtimeStatus, progress, attempt). */
  onProgress?: (status: StatusPayload) => void;
  /** Seconds to wait before the first read, e.g. the Retry-After of the start (default 0: read at once). */
  firstReadAfterSeconds?: number;
}

export interface ListOptions extends CallOptions {
  runtimeStatus?: RuntimeStatus[];
  createdTimeFrom?: Date | string;
  createdTimeTo?: Date | string;
  /** Jobs per page (the service's `top`, at most 200). */
  pageSize?: number;
}

/** One status read: the payload, and whether the service counts the job as ended. */
interface StatusRead {
  status: StatusPayload;
  ended: boolean;
  retryAfterSeconds: number | undefined;
}

const DEFAULT_START_RETRIES = 3;

/**
 * A typed client of report-jobs. Its requests and answers are the types generated from the
 * service's OpenAPI document (openapi.d.ts); error answers are thrown as ProblemError and
 * its subclasses (errors.ts).
 */
export class ReportJobsClient {
  private readonly http: Client<paths>;
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly fetchAnswer: (request: Request) => Promise<Response>;
  readonly policy: PollingPolicy;

  constructor(options: ReportJobsClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
    this.fetchAnswer = options.fetch ?? ((request) => fetch(request));
    this.policy = { ...DEFAULT_POLLING_POLICY, ...options.polling };
    this.http = createClient<paths>({ baseUrl: this.baseUrl, headers: this.headers, fetch: this.fetchAnswer });
  }

  /**
   * Starts a job. The POST is retried only with an Idempotency-Key: without one, a request
   * whose answer was lost may have queued the job, and sending it again would queue a
   * second. With a key, every repeat lands on the one job.
   *
   * A 503 whose outcome is unknown (the job may have been queued) carries the job's
   * instanceId and statusQueryGetUri on the UnavailableError, for a caller without retries.
   */
  async start(job: CreateReportJob, options: StartOptions = {}): Promise<StartedJob> {
    const retries = options.retries ?? DEFAULT_START_RETRIES;
    const idempotencyKey = options.idempotencyKey ?? (retries > 0 ? randomUUID() : undefined);
    for (let failures = 1; ; failures += 1) {
      try {
        return await this.post(job, idempotencyKey, options.signal);
      } catch (error) {
        const delay = idempotencyKey === undefined || failures > retries ? undefined : transientDelaySeconds(error, failures, this.policy);
        if (delay === undefined) throw error;
        await pause(delay, options.signal);
      }
    }
  }

  /** The job's current status (whatever it is: Pending and Running as well as ended). */
  async status(instanceId: string, options: CallOptions = {}): Promise<StatusPayload> {
    return (await this.readStatus(instanceId, undefined, options.signal)).status;
  }

  /**
   * Waits for the job to end and returns its final status. Reads are spaced as the
   * service's Retry-After asks (bounded by the policy), with `Prefer: wait` when the
   * expected wait is short (see preferWaitSeconds). 404 and 410 end the wait with
   * NotFoundError and GoneError; a 503 or 429 is retried after its Retry-After, and a lost
   * connection with backoff, a bounded number of times in a row. Aborting the signal
   * rejects at once with its reason.
   */
  async waitForCompletion(instanceId: string, options: WaitOptions = {}): Promise<FinalStatus> {
    const { signal, onProgress } = options;
    let waitSeconds = options.firstReadAfterSeconds ?? 0;
    // The first wait may be a Retry-After too (the start's): the read after it is held alike.
    let preferWait = preferWaitSeconds(waitSeconds, this.policy);
    let seen: StatusPayload | undefined;
    let failures = 0;
    for (;;) {
      if (waitSeconds > 0) await pause(waitSeconds, signal);
      let read: StatusRead;
      try {
        read = await this.readStatus(instanceId, preferWait, signal);
        failures = 0;
      } catch (error) {
        failures += 1;
        const delay = transientDelaySeconds(error, failures, this.policy);
        if (delay === undefined) throw error;
        [waitSeconds, preferWait] = [delay, undefined];
        continue;
      }
      if (read.ended) {
        if (isFinal(read.status)) return read.status;
        throw new UnexpectedAnswerError(`The job ended ${read.status.runtimeStatus} without the output of that end.`, 200);
      }
      if (seen === undefined || progressChanged(seen, read.status)) onProgress?.(read.status);
      seen = read.status;
      waitSeconds = pollDelaySeconds(read.retryAfterSeconds, this.policy);
      preferWait = preferWaitSeconds(waitSeconds, this.policy);
    }
  }

  /** Cancels the job (DELETE on its status URL); answers its status, Terminated or on its way there. */
  async cancel(instanceId: string, options: CallOptions & { reason?: string } = {}): Promise<StatusPayload> {
    const { data, error, response } = await this.send(options.signal, () =>
      this.http.DELETE('/api/jobs/reports/{instanceId}', {
        params: { path: { instanceId }, query: options.reason === undefined ? undefined : { reason: options.reason } },
        signal: options.signal,
      }),
    );
    if (error !== undefined) throw errorFromAnswer(response, error);
    return data;
  }

  /** Deletes the record of a job that has ended; its status then answers 410 (GoneError). */
  async purge(instanceId: string, options: CallOptions = {}): Promise<PurgeResult> {
    const { data, error, response } = await this.send(options.signal, () =>
      this.http.DELETE('/api/jobs/reports/{instanceId}/history', { params: { path: { instanceId } }, signal: options.signal }),
    );
    if (error !== undefined) throw errorFromAnswer(response, error);
    return data;
  }

  /** The caller's jobs (every job for an admin) in creation order, page after page. */
  async *list(options: ListOptions = {}): AsyncGenerator<StatusPayload, void, undefined> {
    let continuationToken: string | undefined;
    do {
      const query = {
        runtimeStatus: options.runtimeStatus,
        createdTimeFrom: isoTime(options.createdTimeFrom),
        createdTimeTo: isoTime(options.createdTimeTo),
        top: options.pageSize,
        continuationToken,
      };
      const { data, error, response } = await this.send(options.signal, () =>
        this.http.GET('/api/jobs/reports', { params: { query }, signal: options.signal }),
      );
      if (error !== undefined) throw errorFromAnswer(response, error);
      yield* data.items;
      continuationToken = data.continuationToken ?? undefined;
    } while (continuationToken !== undefined);
  }

  /**
   * The job's status as it changes, from its event stream (Server-Sent Events), ending
   * with the final status. Resumes after a dropped connection (see followJobEvents).
   */
  events(instanceId: string, options: FollowOptions = {}): AsyncGenerator<JobEvent, void, undefined> {
    const url = `${this.baseUrl}/api/jobs/reports/${encodeURIComponent(instanceId)}/events`;
    return followJobEvents(url, this.headers, this.fetchAnswer, this.policy, options);
  }

  private async post(job: CreateReportJob, idempotencyKey: string | undefined, signal: AbortSignal | undefined): Promise<StartedJob> {
    const { data, error, response } = await this.send(signal, () =>
      this.http.POST('/api/jobs/reports', {
        body: job,
        params: { header: idempotencyKey === undefined ? undefined : { 'Idempotency-Key': idempotencyKey } },
        signal,
      }),
    );
    if (error !== undefined) throw errorFromAnswer(response, error);
    // 200 answers only a Prefer: wait, which start() does not send.
    if (!('statusQueryGetUri' in data)) throw new UnexpectedAnswerError('The job was started with a status instead of 202 Accepted.', response.status);
    return { ...data, retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')) ?? 1, idempotencyKey };
  }

  private async readStatus(instanceId: string, preferWait: number | undefined, signal: AbortSignal | undefined): Promise<StatusRead> {
    const { data, error, response } = await this.send(signal, () =>
      this.http.GET('/api/jobs/reports/{instanceId}', {
        params: { path: { instanceId }, header: preferWait === undefined ? undefined : { Prefer: `wait=${preferWait}` } },
        signal,
      }),
    );
    if (error !== undefined) throw errorFromAnswer(response, error);
    return { status: data, ended: response.status !== 202, retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')) };
  }

  /** Runs a request: a failure to reach the service becomes a ConnectionError, an abort the signal's reason. */
  private async send<T>(signal: AbortSignal | undefined, request: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    try {
      return await request();
    } catch (error) {
      signal?.throwIfAborted();
      throw new ConnectionError(`Could not reach ${this.baseUrl}.`, { cause: error });
    }
  }
}

/** Did anything a progress display shows change? */
function progressChanged(before: StatusPayload, after: StatusPayload): boolean {
  return (
    before.runtimeStatus !== after.runtimeStatus ||
    before.attempt !== after.attempt ||
    before.customStatus?.progress !== after.customStatus?.progress ||
    before.customStatus?.message !== after.customStatus?.message ||
    before.lastError !== after.lastError
  );
}

function isoTime(time: Date | string | undefined): string | undefined {
  return time instanceof Date ? time.toISOString() : time;
}
