import { ApiContract, type ObservedAnswer } from '../support/api-contract';

// The checker the e2e suites run every API answer through: it must catch each kind of
// disagreement between an answer and the document, and let agreeing answers pass.

const problem = { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetails' } } } };
const document = {
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths: {
    '/jobs/{id}': {
      get: {
        responses: {
          '202': {
            description: 'running',
            headers: { 'Retry-After': { required: true, schema: { type: 'integer', minimum: 1 } } },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Status' } } },
          },
          '404': { description: 'unknown', ...problem },
        },
      },
    },
    '/jobs/{id}/history': { delete: { responses: { '204': { description: 'purged' } } } },
  },
  components: {
    schemas: {
      Status: {
        type: 'object',
        additionalProperties: false,
        required: ['customStatus'],
        properties: { customStatus: { oneOf: [{ $ref: '#/components/schemas/Progress' }, { type: 'null' }] } },
      },
      Progress: { type: 'object', required: ['progress'], properties: { progress: { type: 'integer' } }, example: { progress: 1 } },
      ProblemDetails: {
        type: 'object',
        required: ['title', 'status', 'requestId'],
        properties: { title: { type: 'string' }, status: { type: 'integer' }, requestId: { type: 'string' } },
      },
    },
  },
};

function answer(status: number, headers: Record<string, string>, body: unknown, more: Partial<ObservedAnswer> = {}): ObservedAnswer {
  return {
    method: 'GET',
    target: 'http://127.0.0.1:3000/jobs/7d7e1b8a?x=1',
    status,
    header: (name) => headers[name],
    text: body === undefined ? '' : JSON.stringify(body),
    ...more,
  };
}
const json = { 'content-type': 'application/json; charset=utf-8', 'retry-after': '3' };
const problemJson = { 'content-type': 'application/problem+json' };
const aProblem = { title: 'Not Found', status: 404, requestId: 'r-1' };

describe('ApiContract', () => {
  const contract = new ApiContract(document);

  it('passes answers the document describes, null or not', () => {
    expect(contract.violations(answer(202, json, { customStatus: null }))).toEqual([]);
    expect(contract.violations(answer(202, json, { customStatus: { progress: 40 } }))).toEqual([]);
    expect(contract.violations(answer(404, problemJson, aProblem))).toEqual([]);
    expect(contract.violations(answer(204, {}, undefined, { method: 'DELETE', target: '/jobs/1/history' }))).toEqual([]);
  });

  it('names a body that does not match its schema', () => {
    expect(contract.violations(answer(202, json, { customStatus: 'half' })).join()).toMatch(/^body \/customStatus must be object/);
    expect(contract.violations(answer(202, json, { customStatus: null, extra: 1 })).join()).toContain('must NOT have additional properties (extra)');
    expect(contract.violations(answer(202, json, undefined)).join()).toContain('body is not JSON');
  });

  it('names a media type the response does not declare', () => {
    const violations = contract.violations(answer(404, { 'content-type': 'application/json' }, aProblem));
    expect(violations).toEqual(['media type application/json is not among the documented application/problem+json']);
  });

  it('names a required header that is missing, and a header that does not match its schema', () => {
    expect(contract.violations(answer(202, { 'content-type': 'application/json' }, { customStatus: null }))).toEqual([
      'the required header Retry-After is missing',
    ]);
    expect(contract.violations(answer(202, { ...json, 'retry-after': 'soon' }, { customStatus: null })).join()).toMatch(
      /^header Retry-After: "soon" \(root\) must be integer/,
    );
    expect(contract.violations(answer(202, { ...json, 'retry-after': '0' }, { customStatus: null })).join()).toContain('must be >= 1');
  });

  it('names a status the operation does not document', () => {
    expect(contract.violations(answer(200, json, { customStatus: null }))).toEqual(['status 200 is not documented for GET /jobs/{id}']);
  });

  it('names a body sent where none is documented', () => {
    const violations = contract.violations(answer(204, json, { done: true }, { method: 'DELETE', target: '/jobs/1/history' }));
    expect(violations).toEqual(['a body was sent, but the response is documented without one']);
  });

  it('checks HEAD as GET without its body', () => {
    expect(contract.violations(answer(202, json, undefined, { method: 'HEAD' }))).toEqual([]);
    expect(contract.violations(answer(202, { 'content-type': 'application/json' }, undefined, { method: 'HEAD' }))).toEqual([
      'the required header Retry-After is missing',
    ]);
  });

  it('requires a problem for what no operation answers: unknown routes and methods, unroutable requests', () => {
    expect(contract.violations(answer(404, problemJson, aProblem, { target: '/nowhere' }))).toEqual([]);
    expect(contract.violations(answer(200, json, {}, { target: '/nowhere' })).join()).toMatch(/must be a problem, but its status is 200/);
    expect(contract.violations(answer(404, json, aProblem, { method: 'PUT' })).join()).toMatch(/media type is application\/json$/);
    expect(contract.violations(answer(404, problemJson, { title: 'x' }, { target: '/jobs' })).join()).toContain("must have required property 'status'");
    // Matched to no operation, so a status the GET does not document is fine as a problem.
    expect(contract.violations(answer(431, problemJson, { ...aProblem, status: 431 }, { unrouted: true }))).toEqual([]);
  });

  it('leaves the pages served beside the API alone, but not their errors', () => {
    expect(contract.violations(answer(200, { 'content-type': 'text/html' }, undefined, { target: '/docs' }))).toEqual([]);
    expect(contract.violations(answer(200, json, {}, { target: '/docs-json' }))).toEqual([]);
    expect(contract.violations(answer(404, { 'content-type': 'text/html' }, undefined, { target: '/docs/missing.js' })).join()).toMatch(
      /must be a problem, but its media type is text\/html$/,
    );
    expect(contract.violations(answer(200, json, {}, { target: '/docsx' })).join()).toMatch(/must be a problem/);
  });

  it('refuses a document of another OpenAPI version', () => {
    expect(() => new ApiContract({ ...document, openapi: '3.0.0' })).toThrow('expected an OpenAPI 3.1 document');
  });
});
