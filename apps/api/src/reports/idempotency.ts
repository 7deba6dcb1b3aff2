import { createHash, createHmac } from 'node:crypto';
import type { ReportJobInput } from '@report-jobs/contract';
import { ProblemException } from '../http/problem-details';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * The Idempotency-Key header's value: a structured-field string ("…") per the IETF
 * draft, or the same text bare, 1–255 visible ASCII characters. Anything else is 400.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw invalidKey('Send one Idempotency-Key header.');
  const quoted = /^"(.*)"$/.exec(header);
  const key = quoted ? quoted[1] : header;
  // Quotes and backslashes only make sense as the sf-string's delimiters, never inside.
  if (!KEY_PATTERN.test(key) || /["\\]/.test(key)) {
    throw invalidKey('Idempotency-Key must be 1–255 visible ASCII characters, optionally in double quotes.');
  }
  return key;
}

function invalidKey(detail: string): ProblemException {
  return new ProblemException(400, detail, [{ field: 'Idempotency-Key', message: detail }]);
}

/**
 * The instance id a caller's key maps to: an HMAC with the deployment's secret, so it is
 * as unguessable as a random id, yet every API replica derives the same one. Formatted
 * as a UUIDv8 (RFC 9562's version for custom derivations).
 */
export function instanceIdForKey(secret: Buffer, principal: string, key: string): string {
  const digest = createHmac('sha256', secret).update(`${principal}\n${key}`).digest();
  digest[6] = (digest[6] & 0x0f) | 0x80;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Identifies a request body after defaults are applied: equal inputs (and callback URLs,
 * normalized), equal fingerprints. A request without a callback hashes as it always has,
 * so keys used before callbacks existed still match their jobs.
 */
export function fingerprintOf(input: ReportJobInput, callbackUrl?: string): string {
  const fields: unknown[] = [input.customer_id, input.operation, input.delay_seconds];
  if (callbackUrl !== undefined) fields.push(callbackUrl);
  return createHash('sha256').update(JSON.stringify(fields)).digest('base64url');
}
