import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REPORT_OPERATIONS, type CallbackDeliveryState, type ReportOperation, type RuntimeStatus } from '@report-jobs/contract';

// These classes describe the responses in the OpenAPI document; the service builds
// plain objects of the same shape.

export class ReportJobInputView {
  @ApiProperty({ example: 'cust-123' }) customer_id: string;
  @ApiProperty({ enum: REPORT_OPERATIONS, example: 'rebuild-report' }) operation: ReportOperation;
  @ApiProperty({ example: 5 }) delay_seconds: number;
}

export class AcceptedResponse {
  @ApiProperty({ example: 'accepted', enum: ['accepted'] }) status: 'accepted';
  @ApiProperty({ description: 'Random UUID of the job; hold it as a capability.', format: 'uuid' })
  instanceId: string;
  @ApiProperty({
    description: 'Absolute URL to poll (also in the Location header).',
    example: 'http://localhost:3000/api/jobs/reports/7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10',
  })
  statusQueryGetUri: string;
  @ApiProperty({
    description: 'POST here to terminate the job; replace {text} with a reason.',
    example: 'http://localhost:3000/api/jobs/reports/7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10/terminate?reason={text}',
  })
  terminatePostUri: string;
  @ApiProperty({
    description: 'DELETE here to purge the finished job’s record.',
    example: 'http://localhost:3000/api/jobs/reports/7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10/history',
  })
  purgeHistoryDeleteUri: string;
}

export class CustomStatusView {
  @ApiProperty({ description: 'Percent done, 0–100.', example: 40 }) progress: number;
  @ApiProperty({ example: 'Rebuilding report (2 of 5 s)' }) message: string;
}

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

export class StatusPayload {
  @ApiProperty({ example: 'report' }) name: 'report';
  @ApiProperty({ format: 'uuid' }) instanceId: string;
  @ApiProperty({ enum: ['Pending', 'Running', 'Completed', 'Failed', 'Terminated'], example: 'Running' })
  runtimeStatus: RuntimeStatus;
  @ApiProperty({ type: ReportJobInputView }) input: ReportJobInputView;
  @ApiProperty({ type: CustomStatusView, nullable: true }) customStatus: CustomStatusView | null;
  @ApiProperty({
    description:
      'Completed: {"status":"completed","instanceId":…,"result":{"customerId":…,"operation":…}}. ' +
      'Failed: {"status":"failed","instanceId":…,"error":{"message":…}}. ' +
      'Terminated: {"status":"terminated","instanceId":…,"reason":…}. Otherwise null.',
    nullable: true,
    type: 'object',
    additionalProperties: true,
    example: null,
  })
  output: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time', example: '2026-11-26T10:00:00Z' }) createdTime: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-26T10:00:02Z' }) lastUpdatedTime: string;
  @ApiProperty({ description: 'Number of the current or last attempt; 0 before the first starts.', example: 1 })
  attempt: number;
  @ApiProperty({ description: 'Attempts the job may take in all.', example: 3 }) maxAttempts: number;
  @ApiPropertyOptional({ description: 'Error of the last failed attempt, while the job is not completed.' })
  lastError?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the next attempt is due, between retries.' })
  nextRetryTime?: string;
  @ApiPropertyOptional({ type: CallbackStatusView, description: 'For a job started with a callback_url: where its webhook stands.' })
  callback?: CallbackStatusView;
}

export class ProblemFieldError {
  @ApiProperty({ example: 'customer_id' }) field: string;
  @ApiProperty({ example: 'customer_id must be longer than or equal to 1 characters' }) message: string;
}

export class ProblemDetails {
  @ApiProperty({ example: 'about:blank' }) type: string;
  @ApiProperty({ example: 'Bad Request' }) title: string;
  @ApiProperty({ example: 400 }) status: number;
  @ApiProperty({ example: 'The request body is invalid.' }) detail: string;
  @ApiPropertyOptional({ description: 'The request id; quote it when reporting a problem.' }) requestId?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'On a 410: when the job expired or was purged.' }) goneAt?: string;
  @ApiPropertyOptional({ type: [ProblemFieldError] }) errors?: ProblemFieldError[];
}

export class JobListPage {
  @ApiProperty({ type: [StatusPayload] }) items: StatusPayload[];
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as continuationToken for the next page; null when there is nothing more.',
  })
  continuationToken: string | null;
}

export class PurgeResult {
  @ApiProperty({ example: 1 }) instancesDeleted: number;
}
