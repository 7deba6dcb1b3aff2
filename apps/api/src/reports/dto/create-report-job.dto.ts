import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ClosedSchema } from '../../http/closed-schema';
import { ShortcutValidation } from '../../http/validation-shortcut';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import {
  CUSTOMER_ID_PATTERN,
  DEFAULT_DELAY_SECONDS,
  DEFAULT_OPERATION,
  MAX_CALLBACK_URL_LENGTH,
  MAX_DELAY_SECONDS,
  REPORT_OPERATIONS,
  type ReportOperation,
} from '@report-jobs/contract';

/**
 * Body of POST /api/jobs/reports. Unknown fields are rejected, not dropped. The defaults of
 * the optional fields are told in their descriptions, not as schema defaults: generators
 * such as openapi-typescript make a field with a default required, in requests too.
 */
const FIELDS = new Set(['customer_id', 'operation', 'delay_seconds', 'callback_url']);

/**
 * True only for a body the rules below accept: the fields they declare and no other,
 * each of the right type and within its bounds. False says nothing (the full validation
 * decides and words the errors).
 */
export function isCertainlyValidCreateBody(body: object): boolean {
  if (Object.getPrototypeOf(body) !== Object.prototype) return false;
  const { customer_id, operation, delay_seconds, callback_url } = body as Record<string, unknown>;
  for (const key in body) if (!FIELDS.has(key)) return false;
  return (
    typeof customer_id === 'string' &&
    CUSTOMER_ID_PATTERN.test(customer_id) &&
    (operation === undefined || (REPORT_OPERATIONS as readonly unknown[]).includes(operation)) &&
    (delay_seconds === undefined || (Number.isInteger(delay_seconds) && (delay_seconds as number) >= 0 && (delay_seconds as number) <= MAX_DELAY_SECONDS)) &&
    (callback_url === undefined || (typeof callback_url === 'string' && callback_url.length <= MAX_CALLBACK_URL_LENGTH))
  );
}

@ClosedSchema()
@ShortcutValidation(isCertainlyValidCreateBody)
export class CreateReportJobDto {
  @ApiProperty({
    description: 'The customer the report is for: 1–128 characters of A–Z, a–z, 0–9, ".", "_", ":", "-".',
    example: 'cust-123',
    minLength: 1,
    maxLength: 128,
    pattern: CUSTOMER_ID_PATTERN.source,
  })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(CUSTOMER_ID_PATTERN, {
    message: 'customer_id may contain only letters, digits, ".", "_", ":" and "-"',
  })
  customer_id: string;

  @ApiPropertyOptional({
    description: `What to do; ${DEFAULT_OPERATION} when omitted.`,
    enum: REPORT_OPERATIONS,
    example: DEFAULT_OPERATION,
  })
  @IsOptional()
  @IsIn(REPORT_OPERATIONS, { message: `operation must be one of: ${REPORT_OPERATIONS.join(', ')}` })
  operation?: ReportOperation;

  @ApiPropertyOptional({
    description: `Simulated work time of the job, in whole seconds; ${DEFAULT_DELAY_SECONDS} when omitted.`,
    minimum: 0,
    maximum: MAX_DELAY_SECONDS,
    example: 5,
    type: 'integer',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_DELAY_SECONDS)
  delay_seconds?: number;

  @ApiPropertyOptional({
    description:
      'Where to POST the final status when the job ends (Completed, Failed or Terminated), signed per Standard ' +
      'Webhooks with the secret of the caller’s principal. An absolute https URL (http only where the deployment ' +
      'allows it), without user or password or fragment, on port 80, 443 or 1024–65535, whose host resolves to ' +
      'public addresses only. Refused (400) for a principal without a webhook secret.',
    format: 'uri',
    maxLength: MAX_CALLBACK_URL_LENGTH,
    example: 'https://example.com/hooks/reports',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CALLBACK_URL_LENGTH)
  callback_url?: string;
}
