import { Validator } from '@seriousme/openapi-schema-validator';
import { startApi, type AppProcess } from '../support/apps';
import { request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';

// The OpenAPI document the API serves: a valid OpenAPI 3.1 document, and one that neither
// a generated client nor Swagger UI's "Try it out" can misread.

interface Schema {
  type?: string | string[];
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  required?: string[];
  oneOf?: Schema[];
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  example?: unknown;
  examples?: unknown;
  schema?: Schema;
}
interface Response {
  headers?: Record<string, { required?: boolean; schema?: Schema }>;
  content?: Record<string, { schema: Schema }>;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, Response>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const PROBLEM = { $ref: '#/components/schemas/ProblemDetails' };

describe('the OpenAPI document', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let doc: Document;
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
    );

  beforeAll(async () => {
    redis = await startTestRedis();
    api = await startApi(redis.url);
    doc = (await request<Document>(`${api.url}/docs-json`)).body;
  });
  afterAll(async () => {
    await api?.stop();
    await redis?.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('gives no optional parameter a value Swagger UI would fill in and send unasked', () => {
    const prefilled = operations().flatMap(({ name, operation }) =>
      (operation.parameters ?? [])
        .filter((parameter) => !parameter.required)
        .filter((p) => p.example !== undefined || p.examples !== undefined || p.schema?.example !== undefined || p.schema?.default !== undefined)
        .map((parameter) => `${name} ${parameter.in} ${parameter.name}`),
    );
    expect(prefilled).toEqual([]);
    // The ones a person could otherwise have sent by accident are still there to type into.
    const post = doc.paths['/api/jobs/reports'].post.parameters!.map((parameter) => parameter.name).sort();
    expect(post).toEqual(['Idempotency-Key', 'Prefer']);
  });

  it('documents every error as application/problem+json only, with the headers that go with it', () => {
    for (const { name, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses).filter(([status]) => Number(status) >= 400)) {
        const where = `${name} → ${status}`;
        const media = Object.keys(response.content ?? {});
        // The one exception: a Failed job's status with returnInternalServerErrorOnFailure, as Durable sends it.
        const expected = name === 'GET /api/jobs/reports/{instanceId}' && status === '500' ? ['application/json', 'application/problem+json'] : ['application/problem+json'];
        expect({ where, media }).toEqual({ where, media: expected });
        expect({ where, schema: response.content!['application/problem+json'].schema }).toEqual({ where, schema: PROBLEM });
        const retryAfter = response.headers?.['Retry-After'];
        if (status === '429' || status === '503') expect({ where, retryAfter }).toMatchObject({ where, retryAfter: { required: true, schema: { type: 'integer' } } });
        if (status === '401') expect({ where, header: response.headers?.['WWW-Authenticate']?.required }).toEqual({ where, header: true });
      }
    }
  });

  it('documents on every operation the 500 any route may answer, and the 414 of an over-long id on every path that takes one', () => {
    const missing = operations().flatMap(({ name, operation }) => [
      ...(operation.responses['500'] ? [] : [`${name} → 500`]),
      ...(name.includes('{instanceId}') && !operation.responses['414'] ? [`${name} → 414`] : []),
    ]);
    expect(missing).toEqual([]);
  });

  it('closes every object schema: nothing beyond the declared members, in requests and answers', () => {
    const open = Object.entries(doc.components.schemas)
      .filter(([, schema]) => schema.type === 'object' && schema.additionalProperties !== false)
      .map(([name]) => name);
    expect(open).toEqual([]);
    const body = doc.paths['/api/jobs/reports'].post.requestBody!.content['application/json'].schema;
    expect(doc.components.schemas[body.$ref!.split('/').pop()!].additionalProperties).toBe(false);
  });

  it('describes output per outcome, told apart by status, or null', () => {
    const output = doc.components.schemas.StatusPayload.properties!.output;
    const variants = output.oneOf!.filter((variant) => variant.$ref).map((variant) => doc.components.schemas[variant.$ref!.split('/').pop()!]);
    expect(output.oneOf).toContainEqual({ type: 'null' });
    expect(variants.map((variant) => variant.properties!.status.enum)).toEqual([['completed'], ['failed'], ['terminated']]);
    for (const variant of variants) expect(variant.required).toEqual(expect.arrayContaining(['status', 'instanceId']));
    expect(doc.components.schemas.StatusPayload.properties!.customStatus).toMatchObject({
      anyOf: [{ $ref: '#/components/schemas/CustomStatusView' }, { type: 'null' }],
    });
  });
});
