import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Checks answers of the API against the OpenAPI 3.1 document the API itself serves: the
 * status must be documented for the operation, the media type must be one the response
 * declares, the body must match that media type's schema, and documented headers must be
 * present when required and match their schemas. Schemas are checked by Ajv (JSON Schema
 * 2020-12, OpenAPI 3.1's dialect), compiled straight from their place in the document.
 *
 * An answer no operation describes (an unknown route or method, or a request too broken
 * to be routed) must be an error in application/problem+json with the ProblemDetails schema.
 */

export interface ObservedAnswer {
  method: string;
  /** The request target: a path with its query, or an absolute URL. */
  target: string;
  status: number;
  /** Header lookup by lower-case name. */
  header(name: string): string | undefined;
  /** The body as received ('' for none). */
  text: string;
  /**
   * The request did not reach routing as the test wrote it (malformed bytes on the wire):
   * an error answer cannot be tied to any operation.
   */
  unrouted?: boolean;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}
interface Operation {
  responses: Record<string, ResponseObject>;
}
interface ResponseObject {
  description?: string;
  headers?: Record<string, { required?: boolean; schema?: { type?: string } }>;
  content?: Record<string, unknown>;
}

/** The document's component schemas, as one JSON Schema resource that the others refer to. */
const COMPONENTS_ID = 'urn:report-jobs:openapi:components';
const COMPONENT_REF = '#/components/schemas/';
const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/**
 * Pages and files served beside the API, not operations of it: Swagger UI and the document
 * itself, the queue dashboard, metrics. Their successes are not checked; their errors must
 * still be problems.
 */
const OUTSIDE_THE_DOCUMENT = [/^\/docs(?:[/-]|$)/, /^\/admin\/queues(?:\/|$)/, /^\/metrics$/];


export class ApiContract {
  private readonly ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();
  /** The document with every component $ref made absolute, so any schema in it compiles alone. */
  private readonly resolvable: OpenApiDocument;
  private readonly templates: Array<{ template: string; pattern: RegExp; literalSegments: number }>;

  constructor(readonly document: OpenApiDocument) {
    if (!/^3\.1\./.test(document.openapi)) throw new Error(`expected an OpenAPI 3.1 document, got ${document.openapi}`);
    addFormats(this.ajv);
    // OpenAPI 3.1's own schema keywords, annotations only.
    this.ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
    this.resolvable = absoluteRefs(document) as OpenApiDocument;
    this.ajv.addSchema({ $id: COMPONENTS_ID, $defs: this.resolvable.components?.schemas ?? {} });
    this.templates = Object.keys(document.paths).map((template) => ({
      template,
      // A {parameter} stands for one non-empty path segment.
      pattern: new RegExp(`^${template.split(/\{[^}]+\}/).map(escapeRegExp).join('[^/]+')}$`),
      literalSegments: template.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
    }));
  }

  /** What is wrong with the answer, or an empty list. */
  violations(answer: ObservedAnswer): string[] {
    const path = pathOf(answer.target);
    if (answer.status < 400 && OUTSIDE_THE_DOCUMENT.some((route) => route.test(path))) return [];
    const method = answer.method.toLowerCase();
    const template = answer.unrouted && answer.status >= 400 ? undefined : this.templateOf(path);
    const pathItem = template ? this.document.paths[template] : undefined;
    // HEAD is GET without the body (RFC 9110), unless the document says otherwise.
    const operationMethod = pathItem && method === 'head' && !pathItem.head ? 'get' : method;
    const operation = METHODS.includes(operationMethod) ? pathItem?.[operationMethod] : undefined;
    if (!template || !operation) return this.unmatchedViolations(answer, method);

    const statusKey = [String(answer.status), `${String(answer.status)[0]}XX`, 'default'].find((key) => key in operation.responses);
    if (!statusKey) return [`status ${answer.status} is not documented for ${operationMethod.toUpperCase()} ${template}`];
    const response = operation.responses[statusKey];
    const at = ['paths', template, operationMethod, 'responses', statusKey];
    return [...this.headerViolations(answer, response, at), ...this.bodyViolations(answer, response, at, method === 'head')];
  }

  private templateOf(path: string): string | undefined {
    // The most literal template wins (/reports/{id}/history over a hypothetical /reports/{id}/{x}).
    const matches = this.templates.filter(({ pattern }) => pattern.test(path));
    return matches.sort((a, b) => b.literalSegments - a.literalSegments)[0]?.template;
  }

  private headerViolations(answer: ObservedAnswer, response: ResponseObject, at: string[]): string[] {
    const problems: string[] = [];
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const value = answer.header(name.toLowerCase());
      if (value === undefined) {
        if (header.required) problems.push(`the required header ${name} is missing`);
        continue;
      }
      if (!header.schema) continue;
      const errors = this.validate([...at, 'headers', name, 'schema'], parseHeader(value, header.schema.type));
      if (errors) problems.push(`header ${name}: ${JSON.stringify(value)} ${errors}`);
    }
    return problems;
  }

  private bodyViolations(answer: ObservedAnswer, response: ResponseObject, at: string[], head: boolean): string[] {
    const contentType = answer.header('content-type');
    const mediaType = contentType?.split(';')[0].trim().toLowerCase();
    const documented = Object.keys(response.content ?? {});
    if (documented.length === 0) {
      return answer.text === '' || head ? [] : [`a body was sent, but the response is documented without one`];
    }
    if (!mediaType || !documented.includes(mediaType)) {
      return [`media type ${contentType ?? '(none)'} is not among the documented ${documented.join(', ')}`];
    }
    if (head) return [];
    const body = parseJson(answer.text);
    if (body === undefined) return [`the ${mediaType} body is not JSON: ${excerpt(answer.text)}`];
    const errors = this.validate([...at, 'content', mediaType, 'schema'], body.value);
    return errors ? [`body ${errors}: ${excerpt(answer.text)}`] : [];
  }

  /** No operation answers this: it must be an error, as a problem. */
  private unmatchedViolations(answer: ObservedAnswer, method: string): string[] {
    const what = `no documented operation answers ${answer.method} ${pathOf(answer.target)}, so the answer must be a problem`;
    // A CORS preflight is answered by the CORS layer, before any operation.
    if (method === 'options' && answer.status === 204 && answer.header('access-control-allow-methods') !== undefined) return [];
    if (answer.status < 400) return [`${what}, but its status is ${answer.status}`];
    const mediaType = answer.header('content-type')?.split(';')[0].trim().toLowerCase();
    if (mediaType !== PROBLEM_MEDIA_TYPE) return [`${what}, but its media type is ${mediaType ?? '(none)'}`];
    if (method === 'head') return [];
    const body = parseJson(answer.text);
    if (body === undefined) return [`${what}, but its body is not JSON: ${excerpt(answer.text)}`];
    const errors = this.validate(['components', 'schemas', 'ProblemDetails'], body.value);
    return errors ? [`${what}, but its body ${errors}: ${excerpt(answer.text)}`] : [];
  }

  /** Validates a value against the schema at a place in the document: the errors as text, or undefined. */
  private validate(place: string[], value: unknown): string | undefined {
    const key = JSON.stringify(place);
    let validate = this.validators.get(key);
    if (!validate) {
      const schema = place.reduce<unknown>((node, token) => (node as Record<string, unknown> | undefined)?.[token], this.resolvable);
      if (typeof schema !== 'object' || schema === null) throw new Error(`the document has no schema at ${place.join(' › ')}`);
      validate = this.ajv.compile(schema);
      this.validators.set(key, validate);
    }
    if (validate(value)) return undefined;
    return describeErrors(validate.errors ?? []);
  }
}

/** Answers of APIs the tests started, checked against the document each API serves. */
const contracts = new Map<string, ApiContract>();

/** Fetches the API's /docs-json once and checks its answers from now on. */
export async function watchApi(baseUrl: string): Promise<void> {
  const response = await fetch(`${baseUrl}/docs-json`);
  if (response.status !== 200) throw new Error(`${baseUrl}/docs-json answered ${response.status}`);
  contracts.set(new URL(baseUrl).origin, new ApiContract((await response.json()) as OpenApiDocument));
}

/** The contract of the API at this URL's origin, if the tests started one there. */
export function contractFor(url: string): ApiContract | undefined {
  return contracts.get(new URL(url).origin);
}

/** Throws with every mismatch when an answer of a watched API disagrees with its document. */
export function checkAnswer(baseUrl: string, answer: ObservedAnswer): void {
  const contract = contractFor(baseUrl);
  if (!contract) return;
  const violations = contract.violations(answer);
  if (violations.length === 0) return;
  throw new Error(
    `The answer disagrees with the OpenAPI document: ${answer.method} ${answer.target} → ${answer.status}\n` +
      violations.map((violation) => `  - ${violation}`).join('\n'),
  );
}

/** A deep copy whose "#/components/schemas/X" refs point into the components resource. */
function absoluteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(absoluteRefs);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_REF)
        ? [key, `${COMPONENTS_ID}#/$defs/${value.slice(COMPONENT_REF.length)}`]
        : [key, absoluteRefs(value)],
    ),
  );
}

function pathOf(target: string): string {
  const path = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') : target;
  return path.split(/[?#]/)[0] || '/';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A header's text as the value its schema describes (HTTP headers are all text). */
function parseHeader(value: string, type: string | undefined): unknown {
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

function describeErrors(errors: ErrorObject[]): string {
  return errors
    .map((error) => {
      const where = error.instancePath || '(root)';
      const params = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
      return `${where} ${error.message ?? error.keyword}${params}`;
    })
    .join('; ');
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}
