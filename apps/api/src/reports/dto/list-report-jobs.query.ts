import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { RuntimeStatus } from '@report-jobs/contract';
import { RepeatableQueryParameter } from '../../http/validation';

export const RUNTIME_STATUSES: RuntimeStatus[] = ['Pending', 'Running', 'Completed', 'Failed', 'Terminated'];
export const DEFAULT_PAGE_SIZE = 100;
/** Bounds the Redis work of one listing request (it may read up to 5 entries per item). */
export const MAX_PAGE_SIZE = 200;

/** Query of GET /api/jobs/reports. Query values arrive as text, so each is converted here. */
export class ListReportJobsQuery {
  @ApiPropertyOptional({
    description: 'Only jobs in these states; repeat the parameter or separate with commas.',
    enum: RUNTIME_STATUSES,
    isArray: true,
    example: ['Pending', 'Running'],
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

  @ApiPropertyOptional({ description: 'Page size.', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value))
  @IsInt({ message: 'top must be a whole number' })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  top?: number;

  @ApiPropertyOptional({
    description: 'Accepted for Durable Functions clients; the input is always shown.',
    enum: ['true', 'false'],
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'showInput must be true or false' })
  showInput?: string;

  @ApiPropertyOptional({
    description: 'Continue after the previous page: its continuationToken (or send it as the x-ms-continuation-token header).',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,512}$/, { message: 'continuationToken is not one this service issued' })
  continuationToken?: string;
}
