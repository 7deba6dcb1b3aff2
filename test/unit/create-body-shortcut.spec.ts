import fc from 'fast-check';
import type { ArgumentMetadata } from '@nestjs/common';
import { CreateReportJobDto, isCertainlyValidCreateBody } from '../../apps/api/src/reports/dto/create-report-job.dto';
import { ProblemException } from '../../apps/api/src/http/problem-details';
import { strictValidationPipe } from '../../apps/api/src/http/validation';
import { MAX_CALLBACK_URL_LENGTH, MAX_DELAY_SECONDS } from '@report-jobs/contract';

const asBody: ArgumentMetadata = { type: 'body', metatype: CreateReportJobDto };

/** What the full validation (class-validator) says of a body, the shortcut bypassed. */
async function fullValidationAccepts(body: object): Promise<boolean> {
  try {
    await strictValidationPipe().transform(JSON.parse(JSON.stringify(body)) as object, { ...asBody, metatype: FullyValidated });
    return true;
  } catch (error) {
    if (error instanceof ProblemException) return false;
    throw error;
  }
}

/** The same class and rules, without the shortcut (decorators are inherited; the shortcut map is per class). */
class FullyValidated extends CreateReportJobDto {}

// Values near every bound and of every JSON type, so that the generated bodies probe each rule.
const anyJson = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, 1.5, 3600, 3601, MAX_DELAY_SECONDS, 1e21, '', 'c', 'rebuild-report', 'REBUILD-REPORT'),
  fc.integer({ min: -10, max: 4000 }),
  fc.double(),
  fc.string({ maxLength: 140 }),
  fc.string({ unit: 'grapheme', maxLength: 140 }),
  fc.constantFrom('x'.repeat(128), 'x'.repeat(129), 'a/b', 'é', 'https://example.com/hook', 'h'.repeat(MAX_CALLBACK_URL_LENGTH), 'h'.repeat(MAX_CALLBACK_URL_LENGTH + 1)),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 }),
);
const validCustomer = fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/);
// Each field mostly valid, sometimes at a bound or anything at all, now and then an extra
// field: a body then often has one bad field among good ones.
const mostly = <T,>(valid: fc.Arbitrary<T>, bounds: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: bounds, weight: 2 }, { arbitrary: anyJson, weight: 1 });
const fields = fc.record(
  {
    customer_id: mostly(validCustomer, fc.constantFrom('', 'x'.repeat(129), 'a b', 'é')),
    operation: mostly(fc.constant('rebuild-report'), fc.constantFrom(null, 'REBUILD-REPORT', '')),
    delay_seconds: mostly(fc.integer({ min: 0, max: MAX_DELAY_SECONDS }), fc.constantFrom(-1, MAX_DELAY_SECONDS + 1, 0.5, '5', null)),
    callback_url: mostly(fc.webUrl(), fc.constantFrom('h'.repeat(MAX_CALLBACK_URL_LENGTH + 1), 7, null)),
  },
  { requiredKeys: [] },
);
const extra = fc.option(fc.tuple(fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'customerId', 'other'), anyJson), { freq: 4 });
const body = fc.tuple(fields, extra).map(([known, added]) => (added ? { ...known, [added[0]]: added[1] } : known));

describe('the submit body shortcut', () => {
  it('accepts only bodies the full validation accepts', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (candidate) => {
        const parsed = JSON.parse(JSON.stringify(candidate)) as object;
        if (isCertainlyValidCreateBody(parsed)) expect(await fullValidationAccepts(parsed)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the common valid bodies, as instances of the DTO', async () => {
    const common = [
      { customer_id: 'cust-123' },
      { customer_id: 'cust-123', operation: 'rebuild-report', delay_seconds: 5 },
      { customer_id: 'A-z.0_9:x', delay_seconds: 0, callback_url: 'https://example.com/hooks/reports' },
      { customer_id: 'x'.repeat(128), delay_seconds: MAX_DELAY_SECONDS },
    ];
    for (const valid of common) {
      expect(isCertainlyValidCreateBody(valid)).toBe(true);
      const instance = await strictValidationPipe().transform(valid, asBody);
      expect(instance).toBeInstanceOf(CreateReportJobDto);
      expect({ ...(instance as object) }).toEqual(valid);
    }
  });

  it('leaves every other body to the full validation', () => {
    for (const other of [
      { customer_id: 'c', operation: null },
      { customer_id: 'c', delay_seconds: 1.5 },
      { customer_id: 'c', extra: 1 },
      { customer_id: 'x'.repeat(129) },
      { customer_id: 'c', callback_url: 'h'.repeat(MAX_CALLBACK_URL_LENGTH + 1) },
      Object.assign(Object.create(null) as object, { customer_id: 'c' }),
    ]) {
      expect(isCertainlyValidCreateBody(other)).toBe(false);
    }
  });
});
