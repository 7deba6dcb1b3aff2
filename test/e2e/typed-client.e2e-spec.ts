import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { request } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';

// A client generated from the served document, as its users generate one: types from
// openapi-typescript, calls through openapi-fetch. The program test/client/seed-flow.mts
// must type-check under --strict and run the seed flow against the real API and worker.

const ROOT = join(__dirname, '..', '..');
const PROGRAM = join(ROOT, 'test/client/seed-flow.mts');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const API_KEY = 'typed-client-key-0001';
/** libs/client's types, generated from the served document and committed. */
const COMMITTED_TYPES = join(ROOT, 'libs/client/src/openapi.d.ts');
const GENERATE_TYPES = join(ROOT, 'scripts/generate-client-types.mts');
const run = promisify(execFile);

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2023',
    lib: ['es2024'],
    types: ['node'],
    // What Node runs as it is: type annotations only, no enums or namespaces.
    erasableSyntaxOnly: true,
    verbatimModuleSyntax: true,
  },
  files: ['seed-flow.mts'],
};

/**
 * The server's request and response classes (the types the service builds its answers
 * with) must be the very types generated from the document: mutually assignable.
 */
const SERVER_TYPES = join(ROOT, 'apps/api/src/reports/dto');
const SAME_TYPES = `
import type { components } from './report-jobs-api.js';
import type * as answers from '${SERVER_TYPES}/report-job.responses.ts';
import type { CreateReportJobDto } from '${SERVER_TYPES}/create-report-job.dto.ts';
type Schemas = components['schemas'];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const same: Array<true> = [
  true satisfies Same<Schemas['CreateReportJobDto'], CreateReportJobDto>,
  true satisfies Same<Schemas['AcceptedResponse'], answers.AcceptedResponse>,
  true satisfies Same<Schemas['StatusPayload'], answers.StatusPayload>,
  true satisfies Same<NonNullable<Schemas['StatusPayload']['output']>, answers.ReportOutput>,
  true satisfies Same<Schemas['JobListPage'], answers.JobListPage>,
  true satisfies Same<Schemas['PurgeResult'], answers.PurgeResult>,
  true satisfies Same<Schemas['ProblemDetails'], answers.ProblemDetails>,
];
`;
/** Checks SAME_TYPES: the server's sources compile as the apps do (decorators, path aliases). */
const SAME_TYPES_TSCONFIG = {
  compilerOptions: {
    strict: true,
    strictPropertyInitialization: false,
    noEmit: true,
    allowImportingTsExtensions: true,
    experimentalDecorators: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2023',
    lib: ['es2024'],
    types: ['node'],
    skipLibCheck: true,
    paths: { '@report-jobs/contract': [join(ROOT, 'libs/contract/src')] },
  },
  files: ['same-types.mts'],
};

/** A folder with the program, the types generated from `document` and the repository's packages. */
async function clientProject(document: OpenAPI3): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'report-jobs-client-'));
  copyFileSync(PROGRAM, join(dir, 'seed-flow.mts'));
  writeFileSync(join(dir, 'report-jobs-api.d.ts'), astToString(await openapiTS(document)));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  writeFileSync(join(dir, 'same-types.mts'), SAME_TYPES);
  writeFileSync(join(dir, 'tsconfig.same-types.json'), JSON.stringify(SAME_TYPES_TSCONFIG));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** The compiler's complaints, or '' when the project type-checks. */
async function typeErrors(dir: string, tsconfig = 'tsconfig.json'): Promise<string> {
  try {
    await run(process.execPath, [TSC, '-p', join(dir, tsconfig)], { cwd: dir });
    return '';
  } catch (error) {
    return (error as { stdout?: string }).stdout || String(error);
  }
}

describe('a client generated from the OpenAPI document', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let document: OpenAPI3;
  const dirs: string[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    [api, worker] = await Promise.all([startApi(redis.url, { ALLOW_ANONYMOUS: 'false', API_KEYS: `client:${API_KEY}` }), startWorker(redis.url)]);
    document = (await request<OpenAPI3>(`${api.url}/docs-json`)).body;
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('type-checks under --strict and runs the seed flow, reading output.result.customerId', async () => {
    const dir = await clientProject(document);
    dirs.push(dir);
    expect(await typeErrors(dir)).toBe('');

    const customerId = `typed-${Date.now()}`;
    const { stdout } = await run(process.execPath, [join(dir, 'seed-flow.mts'), api.url, API_KEY, customerId], {
      cwd: dir,
      timeout: 45_000,
    });
    expect(stdout.trim()).toBe(customerId);
  });

  it('generates from the document the very types the server builds its answers with', async () => {
    const dir = await clientProject(document);
    dirs.push(dir);
    expect(await typeErrors(dir, 'tsconfig.same-types.json')).toBe('');
  });

  it("generates libs/client's committed types from the served document: they have not drifted", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-jobs-client-types-'));
    dirs.push(dir);
    // As npm run generate:client does, from this running API, and from the built API it starts itself.
    for (const args of [['--url', api.url], []]) {
      const out = join(dir, `openapi-${args.length}.d.ts`);
      await run(process.execPath, [GENERATE_TYPES, ...args, '--out', out], { cwd: ROOT, timeout: 45_000 });
      const regenerated = readFileSync(out, 'utf8');
      // On a mismatch, run npm run generate:client and commit libs/client/src/openapi.d.ts.
      expect(regenerated).toBe(readFileSync(COMMITTED_TYPES, 'utf8'));
    }
  });

  it('would not type-check against a free-form output: the check has teeth', async () => {
    const freeForm = structuredClone(document) as OpenAPI3 & {
      components: { schemas: { StatusPayload: { properties: Record<string, unknown> } } };
    };
    freeForm.components.schemas.StatusPayload.properties.output = { type: ['object', 'null'], additionalProperties: true };
    const dir = await clientProject(freeForm);
    dirs.push(dir);
    expect(await typeErrors(dir)).toMatch(/seed-flow\.mts\(\d+,\d+\): error TS\d+: 'output\.result' is of type 'unknown'/);
    // Nor would the server's types be the document's any more.
    expect(await typeErrors(dir, 'tsconfig.same-types.json')).toMatch(/same-types\.mts\(\d+,\d+\): error TS\d+/);
  });
});
