// Writes libs/client/src/openapi.d.ts, the typed client's types, from the OpenAPI document
// the API serves at /docs-json:
//
//   npm run generate:client                        builds the API, starts it, generates, stops it
//   node scripts/generate-client-types.mts [--url <api base URL>] [--out <file>]
//
// Without --url the built API (dist/) is started on a free local port. It needs no Redis
// to serve its document, so it is given an address where none listens. The file is
// committed; test/e2e/typed-client.e2e-spec.ts fails when it differs from what the served
// document generates, so a change to the API's answers is a change to the client's types.

import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const API_MAIN = join(ROOT, 'dist/apps/api/apps/api/src/main.js');
const DEFAULT_OUT = join(ROOT, 'libs/client/src/openapi.d.ts');
const HEADER =
  '// Generated from the OpenAPI document the API serves (/docs-json) by `npm run generate:client`.\n' +
  '// Do not edit: change the API, then regenerate.\n\n';

const { values } = parseArgs({ options: { url: { type: 'string' }, out: { type: 'string' } } });

/** The TypeScript declarations of a document, exactly as the committed file holds them. */
async function declarationsOf(document: OpenAPI3): Promise<string> {
  return HEADER + astToString(await openapiTS(document));
}

async function fetchDocument(baseUrl: string): Promise<OpenAPI3> {
  const response = await fetch(new URL('/docs-json', baseUrl));
  if (response.status !== 200) throw new Error(`${baseUrl}/docs-json answered ${response.status}`);
  return (await response.json()) as OpenAPI3;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** Starts the built API, reads its document, stops it. */
async function documentOfBuiltApi(): Promise<OpenAPI3> {
  if (!existsSync(API_MAIN)) throw new Error(`${API_MAIN} is missing: run npm run build first`);
  const [port, metricsPort, noRedisPort] = [await freePort(), await freePort(), await freePort()];
  const api = spawn(process.execPath, [API_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: `redis://127.0.0.1:${noRedisPort}`,
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      ALLOW_ANONYMOUS: 'true',
      LOG_LEVEL: 'error',
    },
    stdio: 'ignore',
  });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (api.exitCode !== null) throw new Error(`the API exited with code ${api.exitCode}`);
      try {
        return await fetchDocument(`http://127.0.0.1:${port}`);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
  } finally {
    api.kill('SIGTERM');
  }
}

const document = values.url ? await fetchDocument(values.url) : await documentOfBuiltApi();
const out = values.out ?? DEFAULT_OUT;
writeFileSync(out, await declarationsOf(document));
console.log(`wrote ${out}`);
