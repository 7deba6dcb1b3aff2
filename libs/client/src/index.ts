export { ReportJobsClient } from './report-jobs-client';
export type { CallOptions, ListOptions, ReportJobsClientOptions, StartedJob, StartOptions, WaitOptions } from './report-jobs-client';
export type { FollowOptions, JobEvent } from './job-events';
export {
  ConnectionError,
  GoneError,
  NotFoundError,
  ProblemError,
  ReportJobsError,
  TooManyRequestsError,
  UnavailableError,
  UnexpectedAnswerError,
} from './errors';
export { DEFAULT_POLLING_POLICY, preferWaitSeconds, type PollingPolicy } from './polling-policy';
export * from './types';
