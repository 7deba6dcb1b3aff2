import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { RuntimeStatus } from '@report-jobs/contract';
import { RepeatableQueryParameter } from '../../http/validation';

export const RUNTIME_STATUSES: RuntimeStatus[] = ['Pending', 'Running', 'Completed', 'Failed', 'Terminated'];
export const DEFAULT_PAGE_SIZE = 100;
/** Bounds the Redis work of one listing request (it may read up to 5 entries per item). */
export const MAX_PAGE_SIZE = 200;
/** The form of the continuation tokens this service issues. */
export const CONTINUATION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,512}$/;

/**
 * Query of GET /api/jobs/reports. Query values arrive as text, so each is converted here.
 * No parameter has an example or default in the document: Swagger UI would send it unasked.
 */
export class ListReportJobsQuery {
  @ApiPropertyOptional({
    description: 'Only jobs in these states; repeat the parameter or separate with commas (runtimeStatus=Running,Pending).',
    enum: RUNTIME_STATUSES,
    isArray: true,
  })
  @IsOptional()
  @RepeatableQueryParameter()
  @Transform(({ value }) => (value === undefined ? undefined : [value].flat().flatMap((v: unknown) => String(v).split(',')).map((v) => v.trim())))
  @IsIn(RUNTIME_STATUSES, { each: true, message: `runtimeStatus must be among ${RUNTIME_STATUSES.join(', ')}` })
  runtimeStatus?: RuntimeStatus[];

  @ApiPropertyOptional({ description: 'Only jobs created at or after this time.', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  createdTimeFrom?: string;

  @ApiPropertyOptional({ description: 'Only jobs created at or before this time.', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  createdTimeTo?: string;

  @ApiPropertyOptional({ description: `Page size; ${DEFAULT_PAGE_SIZE} when omitted.`, type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value))
  @IsInt({ message: 'top must be a whole number' })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  top?: number;

  @ApiPropertyOptional({
    description: 'Accepted for Durable Functions clients; the input is always shown.',
    type: 'boolean',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'showInput must be true or false' })
  showInput?: string;

  @ApiPropertyOptional({
    description: 'Continue after the previous page: its continuationToken (or send it as the x-ms-continuation-token header).',
    pattern: CONTINUATION_TOKEN_PATTERN.source,
  })
  @IsOptional()
  @IsString()
  @Matches(CONTINUATION_TOKEN_PATTERN, { message: 'continuationToken is not one this service issued' })
  continuationToken?: string;
}
