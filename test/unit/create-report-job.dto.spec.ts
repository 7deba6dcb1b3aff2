import type { ArgumentMetadata } from '@nestjs/common';
import { CreateReportJobDto } from '../../apps/api/src/reports/dto/create-report-job.dto';
import { ProblemException, type Problem } from '../../apps/api/src/http/problem-details';
import { strictValidationPipe } from '../../apps/api/src/http/validation';

const pipe = strictValidationPipe();
const asBody: ArgumentMetadata = { type: 'body', metatype: CreateReportJobDto };

async function problemFor(body: unknown): Promise<Problem> {
  try {
    await pipe.transform(body, asBody);
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemException);
    return (error as ProblemException).getResponse() as Problem;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('CreateReportJobDto validation', () => {
  it.each([
    [{ customer_id: 'cust-123', operation: 'rebuild-report', delay_seconds: 5 }],
    [{ customer_id: 'c' }],
    [{ customer_id: 'A-z.0_9:x', delay_seconds: 0 }],
    [{ customer_id: 'x'.repeat(128), delay_seconds: 3600 }],
  ])('accepts %j', async (body) => {
    await expect(pipe.transform(body, asBody)).resolves.toBeInstanceOf(CreateReportJobDto);
  });

  it.each([
    [{}, ['customer_id']],
    [{ customer_id: 'x'.repeat(129) }, ['customer_id']],
    [{ customer_id: 'a/b' }, ['customer_id']],
    [{ customer_id: ['c'] }, ['customer_id']],
    [{ customer_id: 'c', operation: 'REBUILD-REPORT' }, ['operation']],
    [{ customer_id: 'c', operation: null }, []],
    [{ customer_id: 'c', delay_seconds: 3600.5 }, ['delay_seconds']],
    [{ customer_id: 'c', delay_seconds: true }, ['delay_seconds']],
    [{ customer_id: 'c', delay_seconds: 4000 }, ['delay_seconds']],
    [{ customer_id: 'c', __proto__x: 1, other: 2 }, ['__proto__x', 'other']],
    // Names the DTO instance inherits must not slip through the whitelist.
    [{ customer_id: 'c', constructor: 1 }, ['constructor']],
    [{ customer_id: 'c', toString: 'x', hasOwnProperty: 0 }, ['hasOwnProperty', 'toString']],
  ])('rejects %j naming %j', async (body, fields) => {
    if (fields.length === 0) {
      // null counts as omitted for optional fields (class-validator's IsOptional).
      await expect(pipe.transform(body, asBody)).resolves.toBeInstanceOf(CreateReportJobDto);
      return;
    }
    const problem = await problemFor(body);
    expect(problem.status).toBe(400);
    expect(problem.errors!.map((error) => error.field).sort()).toEqual(fields.sort());
  });

  it.each([[null], [[]], ['text'], [42]])('rejects a body that is not an object: %j', async (body) => {
    const problem = await problemFor(body);
    expect(problem.detail).toBe('The request body must be a JSON object.');
  });

  it('rejects deep nesting before transforming it (no stack overflow)', async () => {
    let deep: unknown = 'c';
    for (let i = 0; i < 5000; i++) deep = [deep];
    const problem = await problemFor({ customer_id: deep });
    expect(problem.detail).toMatch(/nests deeper than/);
  });

  it('reports one message per bad field', async () => {
    const problem = await problemFor({ customer_id: '' });
    expect(problem.errors).toHaveLength(1);
  });
});
