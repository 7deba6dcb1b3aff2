/**
 * The job contract shared by the API (producer) and the worker (consumer).
 *
 * NEVER change the string values of REPORTS_QUEUE or REPORT_JOB_NAME: jobs already
 * stored in Redis carry them, and a renamed queue or job strands those jobs.
 */
export const REPORTS_QUEUE = 'reports';
export const REPORT_JOB_NAME = 'report';

/** The operations the service knows. Adding one means adding a handler in the worker. */
export const REPORT_OPERATIONS = ['rebuild-report'] as const;
export type ReportOperation = (typeof REPORT_OPERATIONS)[number];

export const DEFAULT_OPERATION: ReportOperation = 'rebuild-report';
export const DEFAULT_DELAY_SECONDS = 5;
export const MAX_DELAY_SECONDS = 3600;
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** What the client asked for, with defaults applied (echoed back as `input`). */
export interface ReportJobInput {
  customer_id: string;
  operation: ReportOperation;
  delay_seconds: number;
}

/** What is stored in Redis as the BullMQ job's data. */
export interface ReportJobData {
  input: ReportJobInput;
  /** The request id of the POST that created the job; every worker log line carries it. */
  correlationId: string;
  /** The principal that created the job; only it (and admins) may see or manage it. */
  owner: string;
  /** Hash of the normalized input, for jobs created with an Idempotency-Key. */
  requestFingerprint?: string;
  /**
   * A random id of the request that added the job, for jobs created with an
   * Idempotency-Key: of concurrent repeats, which all add, only the one whose id BullMQ
   * kept created the job.
   */
  submissionId?: string;
  /** Where the job's final status is POSTed when it ends (a checked, normalized absolute URL). */
  callbackUrl?: string;
}

/** The seed's activity result. */
export interface ReportResult {
  customerId: string;
  operation: ReportOperation;
}

/** The BullMQ return value of a completed job; becomes the status payload's `output`. */
export interface ReportJobOutput {
  status: 'completed';
  instanceId: string;
  result: ReportResult;
}

/** The status payload's `output` of a Failed job. */
export interface FailedJobOutput {
  status: 'failed';
  instanceId: string;
  error: { message: string };
}

/** The status payload's `output` of a Terminated job. */
export interface TerminatedJobOutput {
  status: 'terminated';
  instanceId: string;
  reason: string;
}

/** What a finished job produced, told apart by `status`; null while it runs. */
export type JobOutput = ReportJobOutput | FailedJobOutput | TerminatedJobOutput;

/** Progress a handler reports while it works; becomes the status payload's `customStatus`. */
export interface ReportProgress {
  progress: number;
  message: string;
  /** Epoch milliseconds of the report; drives `lastUpdatedTime`. */
  updatedAt: number;
  /**
   * 1 for the first report of an attempt, then 2, 3…: orders an attempt's reports even
   * within one millisecond, and versions the job for its event stream.
   */
  sequence: number;
}

export function isReportOperation(value: unknown): value is ReportOperation {
  return typeof value === 'string' && (REPORT_OPERATIONS as readonly string[]).includes(value);
}
