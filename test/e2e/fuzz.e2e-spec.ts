import * as fc from 'fast-check';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { contractFor } from '../support/api-contract';
import { startApi, type AppProcess } from '../support/apps';
import { postJson } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';

// Property-based fuzzing of the HTTP surface against the real API process and Redis:
// bodies, headers, ids and query strings of every shape. Whatever comes in, the answer
// is never a 5xx, every 4xx is a complete application/problem+json, and nothing the
// service answers shows a stack trace or a file path; and every answer is the one the API's
// OpenAPI document describes (test/support/api-contract.ts). FUZZ_SEED=<n> replays a run.

const REPORTS = '/api/jobs/reports';
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const API_KEY = 'fuzz-key-0123456789';
/** Requests in flight at once: enough to keep the API busy, few enough for two cores. */
const PARALLEL = 4;

/** What would betray internals in an answer: stack frames, source paths, error class names. */
const LEAKS = [
  /\bat [^\s()]+ \([^)]*:\d+:\d+\)/, // at fn (file:line:col)
  /\bat (?:\/|file:|node:)\S*:\d+:\d+/, // at /file:line:col
  /node_modules/,
  /(?:\/[\w.@-]+)+\.(?:[cm]?js|ts)\b/, // a source path
  /Error:/,
];
const leaks = (text: string) => LEAKS.find((pattern) => pattern.test(text));
/** Generated text never carries a leak marker itself (answers may echo it). */
const clean = <T>(arbitrary: fc.Arbitrary<T>) => arbitrary.filter((value) => !leaks(JSON.stringify(value) ?? ''));

interface Case {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body?: Buffer;
  /** When the answer is known in advance (the documented rules decide it). */
  expect?: number[];
  /** Bytes sent as they are on a new connection, for what an HTTP client would refuse to send. */
  raw?: Buffer;
}
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

describe('fuzzing the API', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL });
  /** Ids of real jobs, so that status reads also reach existing jobs. */
  const jobIds: string[] = [];
  const tally = { cases: 0, serverErrors: 0, byStatus: new Map<number, number>() };

  beforeAll(async () => {
    redis = await startTestRedis();
    // Anonymous calls allowed, plus one key, so that both reach the application; no rate
    // limits, which thousands of requests a minute would otherwise meet (a 429 is a fine
    // answer, but it would stop the cases from reaching the validation). The fuzzed keys
    // fail authentication many times a minute, so that budget is off too.
    api = await startApi(redis.url, {
      ALLOW_ANONYMOUS: 'true',
      API_KEYS: `fuzz:${API_KEY}`,
      RATE_LIMIT_SUBMITS_PER_MINUTE: '0',
      RATE_LIMIT_READS_PER_MINUTE: '0',
      AUTH_FAILURES_PER_MINUTE: '0',
    });
    port = Number(new URL(api.url).port);
    for (let i = 0; i < 5; i++) {
      const accepted = await postJson(`${api.url}${REPORTS}`, { customer_id: `fuzz-${i}`, delay_seconds: 60 });
      jobIds.push(accepted.body.instanceId as string);
    }
  });
  afterAll(async () => {
    agent.destroy();
    await api?.stop();
    await redis?.close();
    const statuses = [...tally.byStatus].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
    console.log(`Fuzzing: ${tally.cases} cases, ${tally.serverErrors} answered 5xx; statuses ${statuses.join(', ')}`);
  });

  function send(testCase: Case): Promise<Answer> {
    if (testCase.raw) return sendRaw(testCase.raw);
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        { host: '127.0.0.1', port, agent, method: testCase.method, path: testCase.path, headers: testCase.headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString() }),
          );
          response.on('error', reject);
        },
      );
      outgoing.setTimeout(5_000, () => outgoing.destroy(new Error(`no answer within 5 s`)));
      outgoing.on('error', reject);
      outgoing.end(testCase.body);
    });
  }

  /**
   * Writes the bytes on a connection of their own and reads the first answer. The
   * connection is half-closed only if no answer came within a second: the server may
   * rightly be waiting for the rest of an incomplete request, and Node drops requests
   * still being handled when the client half-closes.
   */
  function sendRaw(bytes: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
      let received = '';
      let done = false;
      const halfClose = setTimeout(() => socket.end(), 1_000);
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(halfClose);
        socket.destroy();
        const answer = parseAnswer(received, true);
        if (answer) resolve(answer);
        else reject(error ?? new Error(`not an HTTP answer: ${JSON.stringify(received.slice(0, 200))}`));
      };
      socket.setTimeout(5_000, () => finish(new Error('no answer within 5 s')));
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (parseAnswer(received, false)) finish();
      });
      socket.on('error', (error) => finish(error));
      socket.on('close', () => finish());
    });
  }

  /** The first answer in the bytes received, once complete (or whatever came, once closed). */
  function parseAnswer(received: string, closed: boolean): Answer | undefined {
    const end = received.indexOf('\r\n\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(received);
    if (!status || end < 0) return undefined;
    const headers: IncomingHttpHeaders = {};
    for (const line of received.slice(0, end).split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const rest = received.slice(end + 4);
    let body = '';
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (rest.length < length && !closed) return undefined;
      body = rest.slice(0, length);
    } else if (/chunked/i.test(String(headers['transfer-encoding']))) {
      for (let at = 0; ; ) {
        const lineEnd = rest.indexOf('\r\n', at);
        if (lineEnd < 0 && !closed) return undefined;
        const size = lineEnd < 0 ? 0 : Number.parseInt(rest.slice(at, lineEnd), 16);
        if (!size) break;
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        at = lineEnd + 2 + size + 2;
      }
    } else if (closed) {
      body = rest;
    } else {
      return undefined;
    }
    return { status: Number(status[1]), headers, text: Buffer.from(body, 'latin1').toString() };
  }

  /** Sends the cases side by side and checks every answer. */
  async function check(cases: Case[]): Promise<void> {
    const answers = await Promise.all(
      cases.map((testCase) =>
        send(testCase).catch((error: Error) => {
          throw new Error(`${error.message}: ${describeCase(testCase, { status: 0, headers: {}, text: '' })}`);
        }),
      ),
    );
    for (const [i, answer] of answers.entries()) {
      const testCase = cases[i];
      tally.cases++;
      tally.byStatus.set(answer.status, (tally.byStatus.get(answer.status) ?? 0) + 1);
      if (answer.status >= 500) tally.serverErrors++;
      const violation = violationOf(testCase, answer);
      if (!violation) continue;
      throw new Error(`${violation}: ${describeCase(testCase, answer)}`);
    }
  }

  /** What is wrong with an answer, if anything. */
  function violationOf(testCase: Case, answer: Answer): string | undefined {
    if (answer.status >= 500) return '5xx';
    if (testCase.expect && !testCase.expect.includes(answer.status)) return `expected ${testCase.expect.join(' or ')}`;
    const leak = leaks(answer.text) ?? leaks(JSON.stringify(answer.headers));
    if (leak) return `the answer matches ${leak}`;
    const requestId = requestIdViolation(testCase, answer);
    if (requestId) return requestId;
    const documented = documentViolation(testCase, answer);
    if (documented) return documented;
    if (testCase.method === 'HEAD' || answer.status < 400) return undefined;

    if (!/^application\/problem\+json/.test(answer.headers['content-type'] ?? '')) {
      return `not application/problem+json but ${answer.headers['content-type']}`;
    }
    let problem: Record<string, unknown>;
    try {
      problem = JSON.parse(answer.text) as Record<string, unknown>;
    } catch {
      return 'a problem that is not JSON';
    }
    const complete =
      typeof problem.type === 'string' &&
      typeof problem.title === 'string' &&
      typeof problem.detail === 'string' &&
      problem.status === answer.status;
    return complete ? undefined : 'a problem without type, title, status and detail';
  }

  /** Where the answer disagrees with the OpenAPI document the API serves. */
  function documentViolation(testCase: Case, answer: Answer): string | undefined {
    const violations =
      contractFor(api.url)?.violations({
        method: testCase.method,
        target: testCase.path,
        status: answer.status,
        header: (name) => [answer.headers[name] ?? []].flat().join(', ') || undefined,
        text: answer.text,
        // Bytes on the wire may not be the request they were meant to be.
        unrouted: testCase.raw !== undefined,
      }) ?? ['the API is not watched'];
    return violations.length > 0 ? `the answer disagrees with the OpenAPI document: ${violations.join('; ')}` : undefined;
  }

  function describeCase(testCase: Case, answer: Answer): string {
    const excerpt = (text: string) => JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text);
    if (testCase.raw) return `raw ${excerpt(testCase.raw.toString('latin1'))} → ${answer.status} ${excerpt(answer.text)}`;
    const body = testCase.body ? ` body ${excerpt(testCase.body.toString('latin1'))}` : '';
    const headers = JSON.stringify(testCase.headers);
    return `${testCase.method} ${excerpt(testCase.path)} headers ${headers}${body} → ${answer.status} ${excerpt(answer.text)}`;
  }

  /** A sane X-Request-Id is echoed, anything else replaced by a fresh UUID. */
  function requestIdViolation(testCase: Case, answer: Answer): string | undefined {
    const sent = testCase.headers['x-request-id'];
    const echoed = answer.headers['x-request-id'];
    // The server sees the value without the spaces and tabs around it (HTTP's OWS).
    const given = typeof sent === 'string' ? sent.replace(/^[ \t]+|[ \t]+$/g, '') : undefined;
    const fresh = typeof echoed === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(echoed);
    // Bytes the HTTP parser refuses never become a request, so their headers cannot be echoed.
    const unparsed = testCase.raw !== undefined && [400, 431].includes(answer.status) && /"detail":"The request (is malformed|headers are too large)\."/.test(answer.text);
    const ok = given !== undefined && /^[A-Za-z0-9._:-]{1,128}$/.test(given) && !unparsed ? echoed === given : fresh;
    return ok ? undefined : `X-Request-Id ${JSON.stringify(sent)} answered with ${JSON.stringify(echoed)}`;
  }

  /** Runs a property; a failure names the shrunk request and answer and how to replay it. */
  async function run<T>(arbitrary: fc.Arbitrary<T>, numRuns: number, toCases: (value: T) => Case[]): Promise<void> {
    const property = fc.asyncProperty(arbitrary, async (value) => check(toCases(value)));
    const details = await fc.check(property, { numRuns, seed: SEED });
    if (details.failed) {
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(`${cause}\n(replay with FUZZ_SEED=${details.seed}; fast-check path ${details.counterexamplePath})`);
    }
  }
  const batch = <T>(arbitrary: fc.Arbitrary<T>) => fc.array(arbitrary, { minLength: PARALLEL, maxLength: PARALLEL });

  // ---- generators -------------------------------------------------------------------

  /** Text of every kind: ASCII, any code point, lone surrogates, control characters. */
  const anyText = clean(
    fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('\u0000', '\u202e', '\ud800', '\udfff', '\ufeff', 'é', '😀', '\\', '"', '%', '\n') }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
    ),
  );
  /** Header values the HTTP client can put on the wire: visible Latin-1, spaces and tabs. */
  const headerText = clean(
    fc.oneof(
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 }),
      fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,140}$/),
      fc.constantFrom('', ' ', '\t', '"', '""', '"a"b"', 'a'.repeat(128), 'a'.repeat(129), 'x'.repeat(4000)),
    ),
  );
  const customerIds = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
    clean(fc.string({ maxLength: 140 })),
    fc.constantFrom('', ' ', 'a'.repeat(128), 'a'.repeat(129), 'cust 1', 'cust\u0000', 'ｃｕｓｔ', '../etc'),
  );
  const delays = fc.oneof(
    fc.integer({ min: 0, max: 3600 }),
    fc.integer(),
    fc.double(),
    fc.constantFrom(-0, 0.5, 3600.0001, 1e308, Number.MAX_SAFE_INTEGER + 2),
    fc.constantFrom('5', '', null, true, [], {}, [5], { $gt: 0 }),
  );
  const operations = fc.oneof(
    fc.constant('rebuild-report'),
    fc.constantFrom('REBUILD-REPORT', 'rebuild-report ', '', null, 1, ['rebuild-report'], 'constructor', '__proto__', 'toString'),
    clean(fc.string({ maxLength: 20 })),
  );
  /** Keys a parser or validator might treat specially. */
  const oddKeys = fc.constantFrom(
    '__proto__',
    // Names every object inherits: the DTO's whitelist alone would let them through.
    'constructor',
    'prototype',
    'toString',
    'toLocaleString',
    'valueOf',
    'hasOwnProperty',
    'isPrototypeOf',
    'propertyIsEnumerable',
    '__defineGetter__',
    '__lookupGetter__',
    'length',
    'customerId',
    'Customer_ID',
    'delay_seconds ',
    '',
    '$where',
    'customer_id\u0000',
  );
  const jsonValue = clean(fc.jsonValue({ maxDepth: 4 }));

  /** An object body close to a valid one, with the verdict the documented rules give. */
  const nearValidBody = fc
    .record(
      {
        customer_id: customerIds,
        operation: operations,
        delay_seconds: delays,
        extra: fc.tuple(oddKeys, jsonValue),
      },
      { requiredKeys: [] },
    )
    .map(({ extra, ...fields }) => {
      const entries: Array<[string, unknown]> = Object.entries(fields);
      if (extra) entries.push(extra);
      // Written by hand so that keys like __proto__ reach the server as they are.
      const text = `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`).join(',')}}`;
      // Judged on what the server receives (NaN and Infinity travel as null, say).
      const sent = JSON.parse(text) as Record<string, unknown>;
      const valid =
        !extra &&
        typeof sent.customer_id === 'string' &&
        /^[A-Za-z0-9._:-]{1,128}$/.test(sent.customer_id) &&
        (sent.operation === undefined || sent.operation === null || sent.operation === 'rebuild-report') &&
        (sent.delay_seconds === undefined ||
          sent.delay_seconds === null ||
          (typeof sent.delay_seconds === 'number' &&
            Number.isInteger(sent.delay_seconds) &&
            sent.delay_seconds >= 0 &&
            sent.delay_seconds <= 3600));
      // null for an optional field may be taken as "use the default": then 202 and 400 are both fair.
      const nullOptional = sent.operation === null || sent.delay_seconds === null;
      const expected = valid ? (nullOptional ? [202, 400] : [202]) : [400];
      return { text, expected };
    });

  /** Raw bodies: arbitrary JSON, broken JSON, deep nesting, huge strings, invalid UTF-8. */
  const rawBody = fc.oneof(
    jsonValue.map((value) => Buffer.from(JSON.stringify(value))),
    anyText.map((text) => Buffer.from(text)),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.constantFrom('[', '{"a":', '{"customer_id":')).map(([depth, open]) =>
      Buffer.from(open.repeat(depth)),
    ),
    fc.integer({ min: 1, max: 2500 }).map((depth) => Buffer.from(`${'{"customer_id":'.repeat(depth)}"c"${'}'.repeat(depth)}`)),
    fc.integer({ min: 1, max: 2500 }).map((depth) => Buffer.from(`{"customer_id":"c","x":${'['.repeat(depth)}${']'.repeat(depth)}}`)),
    fc.tuple(fc.integer({ min: 0, max: 40_000 }), fc.constantFrom('a', 'é', '😀', '\\u0000')).map(([n, unit]) =>
      Buffer.from(`{"customer_id":"${unit.repeat(n)}"}`),
    ),
    fc.constantFrom('', ' ', 'null', 'true', '0', '""', '[]', '{}', '{"customer_id":"c",}', "{'customer_id':'c'}", '\ufeff{"customer_id":"c"}').map(
      (text) => Buffer.from(text),
    ),
  );
  const contentTypes = fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-16',
      'APPLICATION/JSON',
      'application/json ; charset="utf-8"',
      'application/problem+json',
      'application/jsonx',
      'application/json-seq',
      'text/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '*/*',
      '',
      ';',
      'application/json; charset',
      'application/json; boundary=\u00ff',
    ),
    headerText,
  );

  /** Path segments for the status URL: encoded text, UUID look-alikes, encoding tricks. */
  const idSegment = fc.oneof(
    anyText.map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '?'))),
    fc.uuid(),
    fc.uuid().map((id) => id.toUpperCase()),
    fc.constantFrom('%', '%zz', '%00', '%2F', '%2e%2e', '..', '.', '%C0%AF', '%E2%80%AE', '%FF', '%u0041', ';a=b', '%20', 'a%2Fb'),
    fc.nat(300).map((n) => 'a'.repeat(n)),
    fc.stringMatching(/^[\x21-\x7e]{0,60}$/).map((text) => text.replace(/[?#%/]/g, '')),
  );
  const queryString = fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom('returnInternalServerErrorOnFailure', '__proto__', 'constructor[prototype][x]', 'a[b]', 'reason', 'top'),
          anyText,
        ),
        fc.oneof(fc.constantFrom('true', 'false', '', 'TRUE', '1', 'yes', 'null', 'undefined'), anyText),
      ),
      { maxLength: 4 },
    )
    .map((pairs) =>
      pairs
        .map(([key, value]) => `${encodeURIComponent(key.replace(/[\ud800-\udfff]/g, '?'))}=${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '?'))}`)
        .join('&'),
    );
  const commonHeaders = fc.record(
    {
      'x-request-id': headerText,
      'idempotency-key': headerText,
      accept: fc.constantFrom('application/json', '*/*', 'text/html', ''),
      authorization: fc.oneof(fc.constantFrom(`Bearer ${API_KEY}`, `bearer  ${API_KEY} `, 'Bearer', 'Basic Zm9vOmJhcg=='), headerText),
      'x-api-key': fc.oneof(fc.constant(API_KEY), headerText),
      prefer: headerText.filter((text) => !/wait/i.test(text)), // a real wait would only slow the run
    },
    { requiredKeys: [] },
  );
  const post = (body: Buffer, headers: OutgoingHttpHeaders, expected?: number[]): Case => ({
    method: 'POST',
    path: REPORTS,
    headers: { ...headers, 'content-length': body.length },
    body,
    expect: expected,
  });

  // ---- properties ---------------------------------------------------------------------

  it('answers near-valid bodies by the documented rules: 202 when valid, 400 otherwise', async () => {
    await run(batch(nearValidBody), 1000, (bodies) =>
      bodies.map(({ text, expected }) => post(Buffer.from(text), { 'content-type': 'application/json' }, expected)),
    );
  });

  it('answers any body with any Content-Type and headers without a 5xx', async () => {
    await run(batch(fc.tuple(rawBody, fc.option(contentTypes), commonHeaders)), 1000, (cases) =>
      cases.map(([body, contentType, headers]) =>
        post(body, contentType === null ? headers : { ...headers, 'content-type': contentType }),
      ),
    );
  });

  it('answers any status path and query string without a 5xx', async () => {
    const realId = fc.constantFrom(...jobIds);
    const path = fc.oneof(
      fc.tuple(idSegment, queryString).map(([id, query]) => `${REPORTS}/${id}${query ? `?${query}` : ''}`),
      fc.tuple(realId, queryString).map(([id, query]) => `${REPORTS}/${id}${query ? `?${query}` : ''}`),
      fc.tuple(realId, idSegment).map(([id, junk]) => `${REPORTS}/${id}${junk}`),
      fc.tuple(idSegment, idSegment).map(([a, b]) => `${REPORTS}/${a}/${b}`),
      fc.tuple(fc.constantFrom('', '/', '//', '/./', '/../', '/%2e/'), idSegment).map(([sep, id]) => `${REPORTS}${sep}${id}`),
      queryString.map((query) => `${REPORTS}?${query}`),
      idSegment.map((id) => `/${id}`),
    );
    const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'POST');
    await run(batch(fc.tuple(method, path, commonHeaders)), 1500, (cases) =>
      cases.map(([verb, target, headers]) => ({
        method: verb,
        path: target,
        headers: verb === 'POST' ? { ...headers, 'content-type': 'application/json', 'content-length': 0 } : headers,
      })),
    );
  });

  it('reads the status of real jobs with any returnInternalServerErrorOnFailure value by the documented rules', async () => {
    // Jobs of its own: the other properties may have terminated or purged the shared ones.
    const pending: string[] = [];
    for (let i = 0; i < 3; i++) {
      const accepted = await postJson(`${api.url}${REPORTS}`, { customer_id: `fuzz-flag-${i}`, delay_seconds: 60 });
      pending.push(accepted.body.instanceId as string);
    }
    const flag = fc.oneof(fc.constantFrom('true', 'false'), clean(fc.string({ maxLength: 10 })));
    await run(batch(fc.tuple(fc.constantFrom(...pending), flag)), 150, (cases) =>
      cases.map(([id, value]) => ({
        method: 'GET',
        path: `${REPORTS}/${id}?returnInternalServerErrorOnFailure=${encodeURIComponent(value)}`,
        headers: {},
        // The jobs are Pending: 202 for a valid flag, 400 for anything else.
        expect: value === 'true' || value === 'false' ? [202] : [400],
      })),
    );
  });

  it('answers malformed HTTP on the wire without a 5xx and without hanging', async () => {
    const latin1 = (min: number, max: number, maxLength: number) =>
      fc.string({ unit: fc.integer({ min, max }).map((c) => String.fromCharCode(c)), maxLength });
    // Mostly well-formed, so that part of them reach the application with one flaw or none.
    const often = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ arbitrary: usual, weight: 3 }, odd);
    const method = often(
      fc.constantFrom('GET', 'POST', 'DELETE'),
      fc.oneof(fc.constantFrom('get', 'FOO', 'G\u0000T', 'PRI', ''), latin1(0x21, 0x7e, 8)),
    );
    const target = often(
      fc.constantFrom(REPORTS, `${REPORTS}/`, `${REPORTS}/6f1c2a8e-3b1d-4c55-9e0a-2b7d4f9a1c00`, '/health/live', '//'),
      fc.oneof(
        fc.constantFrom('*', 'http://other.example/health/live', ''),
        latin1(0x21, 0xff, 60).map((junk) => `${REPORTS}/${junk}`),
        latin1(0x00, 0xff, 30).map((junk) => `${REPORTS}/${junk.replace(/[\r\n ]/g, '')}`),
      ),
    );
    const version = often(fc.constantFrom('HTTP/1.1', 'HTTP/1.0'), fc.constantFrom('HTTP/9.9', 'HTTP/1.1x', 'HTTP/2.0', ''));
    const header = often(
      fc.tuple(fc.constantFrom('X-Request-Id', 'Idempotency-Key', 'Accept', 'X-Junk'), latin1(0x20, 0x7e, 40)),
      fc.oneof(
        fc.tuple(fc.constantFrom('X-Request-Id', 'Content-Type', 'X-Junk'), latin1(0x00, 0xff, 40)),
        fc.tuple(latin1(0x21, 0xff, 12), latin1(0x20, 0x7e, 20)),
        fc.tuple(fc.constant('Content-Length'), fc.constantFrom('abc', '-1', '1e3', '99999999999999999999', '2, 3')),
        fc.tuple(fc.constant('Transfer-Encoding'), fc.constantFrom('chunked', 'gzip', 'chunked, chunked', 'x')),
        fc.nat(20_000).map((n): [string, string] => ['X-Big', 'a'.repeat(n)]),
      ),
    );
    const request = fc.record({
      method,
      target,
      version,
      host: often(fc.constant(true), fc.constant(false)),
      headers: fc.array(header.map(([name, value]) => `${name.replace(/[\r\n:]/g, '')}: ${value.replace(/[\r\n]/g, '')}`), { maxLength: 3 }),
      body: fc.option(fc.constantFrom('{"customer_id":"c"}', '{"customer_id":"c","delay_seconds":"x"}', '0\r\n\r\n', 'zz\r\n', '{')),
      /** Whether the body comes with a right Content-Length and a JSON Content-Type. */
      framed: fc.boolean(),
    });
    await run(batch(request), 300, (requests) =>
      requests.map((r) => {
        const framing = r.body && r.framed ? ['Content-Type: application/json', `Content-Length: ${r.body.length}`] : [];
        const host = r.host ? ['Host: fuzz'] : [];
        const lines = [`${r.method} ${r.target} ${r.version}`, ...host, 'Connection: close', ...framing, ...r.headers];
        // What the server makes of X-Request-Id: repeated headers are joined with ", ".
        const requestIds = r.headers.filter((line) => line.startsWith('X-Request-Id: ')).map((line) => line.slice(14));
        return {
          method: r.method,
          path: r.target,
          headers: requestIds.length > 0 ? { 'x-request-id': requestIds.join(', ') } : {},
          raw: Buffer.from(`${lines.join('\r\n')}\r\n\r\n${r.body ?? ''}`, 'latin1'),
        };
      }),
    );
  });

  it('ran thousands of cases, and no 5xx', () => {
    expect(tally.cases).toBeGreaterThanOrEqual(3000);
    expect(tally.serverErrors).toBe(0);
  });
});
