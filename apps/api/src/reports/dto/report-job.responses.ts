import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import {
  REPORT_OPERATIONS,
  type CallbackDeliveryState,
  type FailedJobOutput,
  type ReportJobInput,
  type ReportJobOutput,
  type ReportOperation,
  type ReportResult,
  type RuntimeStatus,
  type TerminatedJobOutput,
} from '@report-jobs/contract';
import { ClosedSchema } from '../../http/closed-schema';

// These classes are both the TypeScript types of what the API sends and, through their
// decorators, the schemas of the OpenAPI document: the service builds plain objects of
// these types, so the code and the document describe one shape. Every schema is closed
// (no members beyond the declared ones), as the answers are.

const UUID_EXAMPLE = '7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10';
const STATUS_URL_EXAMPLE = `http://localhost:3000/api/jobs/reports/${UUID_EXAMPLE}`;

@ClosedSchema()
export class ReportJobInputView implements ReportJobInput {
  @ApiProperty({ example: 'cust-123' }) customer_id: string;
  @ApiProperty({ enum: REPORT_OPERATIONS, example: 'rebuild-report' }) operation: ReportOperation;
  @ApiProperty({ type: 'integer', minimum: 0, example: 5 }) delay_seconds: number;
}

@ClosedSchema()
export class AcceptedResponse {
  @ApiProperty({ enum: ['accepted'], example: 'accepted' }) status: 'accepted';
  @ApiProperty({
    description:
      'The job’s id, a UUID: random (version 4) or, with an Idempotency-Key, derived from the caller’s ' +
      'principal and key with a secret of the deployment (version 8), so that repeats get the same id and ' +
      'nobody without that secret can compute it, not even from the key. Only the principal that started ' +
      'the job, and admin keys, can reach it: other principals get 404.',
    format: 'uuid',
    example: UUID_EXAMPLE,
  })
  instanceId: string;
  @ApiProperty({ description: 'Absolute URL to poll (also in the Location header).', format: 'uri', example: STATUS_URL_EXAMPLE })
  statusQueryGetUri: string;
  @ApiProperty({
    // A URI template (RFC 6570), not a URI: "{text}" is not valid in a URI.
    description: 'POST here to terminate the job; replace {text} with a reason (URL-encoded).',
    example: `${STATUS_URL_EXAMPLE}/terminate?reason={text}`,
  })
  terminatePostUri: string;
  @ApiProperty({
    description: 'DELETE here to purge the finished job’s record.',
    format: 'uri',
    example: `${STATUS_URL_EXAMPLE}/history`,
  })
  purgeHistoryDeleteUri: string;
}

@ClosedSchema()
export class CustomStatusView {
  @ApiProperty({ description: 'Percent done.', type: 'integer', minimum: 0, maximum: 100, example: 40 }) progress: number;
  @ApiProperty({ example: 'Rebuilding report (2 of 5 s)' }) message: string;
}

@ClosedSchema()
export class ReportResultView implements ReportResult {
  @ApiProperty({ example: 'cust-123' }) customerId: string;
  @ApiProperty({ enum: REPORT_OPERATIONS, example: 'rebuild-report' }) operation: ReportOperation;
}

/** `output` of a Completed job: the seed's shape. */
@ClosedSchema()
export class CompletedOutput implements ReportJobOutput {
  @ApiProperty({ enum: ['completed'] }) status: 'completed';
  @ApiProperty({ format: 'uuid' }) instanceId: string;
  @ApiProperty({ type: ReportResultView }) result: ReportResultView;
}

@ClosedSchema()
export class FailureView {
  @ApiProperty({ description: 'Why the job failed: the last attempt’s error, or the limit it ran into.' }) message: string;
}

/** `output` of a Failed job. */
@ClosedSchema()
export class FailedOutput implements FailedJobOutput {
  @ApiProperty({ enum: ['failed'] }) status: 'failed';
  @ApiProperty({ format: 'uuid' }) instanceId: string;
  @ApiProperty({ type: FailureView }) error: FailureView;
}

/** `output` of a Terminated job. */
@ClosedSchema()
export class TerminatedOutput implements TerminatedJobOutput {
  @ApiProperty({ enum: ['terminated'] }) status: 'terminated';
  @ApiProperty({ format: 'uuid' }) instanceId: string;
  @ApiProperty({ description: 'The reason given when the job was terminated.' }) reason: string;
}

/** What a finished job produced, told apart by `status`. */
export type ReportOutput = CompletedOutput | FailedOutput | TerminatedOutput;

@ClosedSchema()
export class CallbackStatusView {
  @ApiProperty({ description: 'The callback_url given when the job was started.', format: 'uri', example: 'https://example.com/hooks/reports' })
  url: string;
  @ApiProperty({
    description:
      'pending: the job has not ended, or its delivery is queued or waiting for a retry; delivered: the receiver ' +
      'answered 2xx; failed: every attempt failed, or the URL was refused at delivery; disabled: the receiver answered 410.',
    enum: ['pending', 'delivered', 'failed', 'disabled'],
    example: 'delivered',
  })
  state: CallbackDeliveryState;
  @ApiProperty({ description: 'Delivery attempts made so far.', type: 'integer', minimum: 0, example: 1 }) attempts: number;
  @ApiPropertyOptional({ description: 'Why the last attempt failed.', example: 'answered 500' }) lastError?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the receiver accepted the delivery.' }) deliveredAt?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the next attempt is due, between retries.' }) nextAttemptTime?: string;
}

@ClosedSchema()
@ApiExtraModels(CompletedOutput, FailedOutput, TerminatedOutput)
export class StatusPayload {
  @ApiProperty({ enum: ['report'] }) name: 'report';
  @ApiProperty({ format: 'uuid' }) instanceId: string;
  @ApiProperty({ enum: ['Pending', 'Running', 'Completed', 'Failed', 'Terminated'], example: 'Running' })
  runtimeStatus: RuntimeStatus;
  @ApiProperty({ type: ReportJobInputView }) input: ReportJobInputView;
  @ApiProperty({ type: CustomStatusView, nullable: true, description: 'Progress of the running attempt; null before it reports any.' })
  customStatus: CustomStatusView | null;
  @ApiProperty({
    description:
      'Null while the job is Pending or Running. Completed: the result; Failed: the error; Terminated: the reason. ' +
      'Tell them apart by status.',
    oneOf: [
      { $ref: getSchemaPath(CompletedOutput) },
      { $ref: getSchemaPath(FailedOutput) },
      { $ref: getSchemaPath(TerminatedOutput) },
      { type: 'null' },
    ],
  })
  output: ReportOutput | null;
  @ApiProperty({ format: 'date-time', example: '2026-11-26T10:00:00Z' }) createdTime: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-26T10:00:02Z' }) lastUpdatedTime: string;
  @ApiProperty({ description: 'Number of the current or last attempt; 0 before the first starts.', type: 'integer', minimum: 0, example: 1 })
  attempt: number;
  @ApiProperty({ description: 'Attempts the job may take in all.', type: 'integer', minimum: 0, example: 3 })
  maxAttempts: number;
  @ApiPropertyOptional({ description: 'Error of the last failed attempt, while the job is not completed.' })
  lastError?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the next attempt is due, between retries.' })
  nextRetryTime?: string;
  @ApiPropertyOptional({ type: CallbackStatusView, description: 'For a job started with a callback_url: where its webhook stands.' })
  callback?: CallbackStatusView;
}

@ClosedSchema()
export class ProblemFieldError {
  @ApiProperty({ example: 'customer_id' }) field: string;
  @ApiProperty({ example: 'customer_id must be longer than or equal to 1 characters' }) message: string;
}

/** An RFC 9457 problem, as every 4xx and 5xx answer carries it (application/problem+json). */
@ClosedSchema()
export class ProblemDetails {
  @ApiProperty({ format: 'uri-reference', example: 'about:blank' }) type: string;
  @ApiProperty({ example: 'Bad Request' }) title: string;
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400 }) status: number;
  @ApiProperty({ example: 'The request is invalid; see errors.' }) detail: string;
  @ApiProperty({ description: 'The request id (also in X-Request-Id); quote it when reporting a problem.' }) requestId: string;
  @ApiPropertyOptional({ type: [ProblemFieldError], description: 'On a 400: each bad field.' }) errors?: ProblemFieldError[];
  @ApiPropertyOptional({ format: 'date-time', description: 'On a 410: when the job expired or was purged.' }) goneAt?: string;
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'On a 503 whose enqueue may have happened after all: the job it would be; poll statusQueryGetUri.',
  })
  instanceId?: string;
  @ApiPropertyOptional({ format: 'uri', description: 'With instanceId: where to look for that job.' })
  statusQueryGetUri?: string;
}

@ClosedSchema()
export class JobListPage {
  @ApiProperty({ type: [StatusPayload] }) items: StatusPayload[];
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as continuationToken for the next page; null when there is nothing more.',
  })
  continuationToken: string | null;
}

@ClosedSchema()
export class PurgeResult {
  @ApiProperty({ type: 'integer', minimum: 0, example: 1 }) instancesDeleted: number;
}
