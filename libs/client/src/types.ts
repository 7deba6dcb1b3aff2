import type { components, operations } from './openapi';

// Names for the schemas of the OpenAPI document (openapi.d.ts, generated from it), and the
// status payload told apart by runtimeStatus. The document gives every field; what it
// cannot say (that a Completed job's output is a CompletedOutput) is checked by isFinal.

type Schemas = components['schemas'];

export type CreateReportJob = Schemas['CreateReportJobDto'];
export type ReportOperation = NonNullable<CreateReportJob['operation']>;
export type AcceptedResponse = Schemas['AcceptedResponse'];
export type StatusPayload = Schemas['StatusPayload'];
export type RuntimeStatus = StatusPayload['runtimeStatus'];
export type CustomStatus = NonNullable<StatusPayload['customStatus']>;
export type ProblemDetails = Schemas['ProblemDetails'];
export type PurgeResult = Schemas['PurgeResult'];
export type JobListPage = Schemas['JobListPage'];
export type ListQuery = NonNullable<operations['ReportsController_list']['parameters']['query']>;

export type CompletedStatus = StatusPayload & { runtimeStatus: 'Completed'; output: Schemas['CompletedOutput'] };
export type FailedStatus = StatusPayload & { runtimeStatus: 'Failed'; output: Schemas['FailedOutput'] };
export type TerminatedStatus = StatusPayload & { runtimeStatus: 'Terminated'; output: Schemas['TerminatedOutput'] };
/** The status of a job that has ended: its output matches its runtimeStatus. */
export type FinalStatus = CompletedStatus | FailedStatus | TerminatedStatus;

/** Every runtimeStatus, in lifecycle order. */
export const RUNTIME_STATUSES = ['Pending', 'Running', 'Completed', 'Failed', 'Terminated'] as const satisfies readonly RuntimeStatus[];
/** Every operation the service knows, as the document lists them. */
export const REPORT_OPERATIONS = ['rebuild-report'] as const satisfies readonly ReportOperation[];

// Both lists must name every member of their union: adding one to the document (and
// regenerating openapi.d.ts) fails to compile here until the list has it too.
type Missing<Union, List extends readonly unknown[]> = Exclude<Union, List[number]>;
export const listsAreComplete: [Missing<RuntimeStatus, typeof RUNTIME_STATUSES>, Missing<ReportOperation, typeof REPORT_OPERATIONS>] extends [never, never]
  ? true
  : never = true;

export function isCompleted(status: StatusPayload): status is CompletedStatus {
  return status.runtimeStatus === 'Completed' && status.output?.status === 'completed';
}

export function isFailed(status: StatusPayload): status is FailedStatus {
  return status.runtimeStatus === 'Failed' && status.output?.status === 'failed';
}

export function isTerminated(status: StatusPayload): status is TerminatedStatus {
  return status.runtimeStatus === 'Terminated' && status.output?.status === 'terminated';
}

/** True once the job has ended (and its output says how). */
export function isFinal(status: StatusPayload): status is FinalStatus {
  return isCompleted(status) || isFailed(status) || isTerminated(status);
}
