// A client of report-jobs written only against the types openapi-typescript generates from
// the OpenAPI document the API serves, on the openapi-fetch runtime: no casts, no `any`, no
// non-null assertions. It runs the seed's flow (POST, then poll the status URL, waiting as
// Retry-After says, until the job is done) and prints the completed job's customerId.
// test/e2e/typed-client.e2e-spec.ts generates report-jobs-api.d.ts beside it, type-checks
// it with tsc --strict and runs it.
//
//   node seed-flow.mts <baseUrl> <apiKey> <customerId>

import createClient from 'openapi-fetch';
import { setTimeout as sleep } from 'node:timers/promises';
import type { paths } from './report-jobs-api.js';

const [baseUrl, apiKey, customerId] = process.argv.slice(2);
if (baseUrl === undefined || apiKey === undefined || customerId === undefined) {
  throw new Error('usage: node seed-flow.mts <baseUrl> <apiKey> <customerId>');
}

const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

// operation is left out: it is optional, and its default is the seed's rebuild-report.
const started = await client.POST('/api/jobs/reports', { body: { customer_id: customerId, delay_seconds: 1 } });
// 202 answers AcceptedResponse; 200 (only with Prefer: wait, not sent here) a status payload.
if (started.data === undefined || !('statusQueryGetUri' in started.data)) {
  throw new Error(`expected 202 Accepted, got ${started.response.status}`);
}
const { instanceId } = started.data;
let retryAfterSeconds = Number(started.response.headers.get('retry-after'));

for (;;) {
  await sleep(retryAfterSeconds * 1000);
  const polled = await client.GET('/api/jobs/reports/{instanceId}', { params: { path: { instanceId } } });
  if (polled.error !== undefined) throw new Error(`the status URL answered ${polled.response.status}`);
  if (polled.response.status === 202) {
    retryAfterSeconds = Number(polled.response.headers.get('retry-after'));
    continue;
  }
  const { output, runtimeStatus } = polled.data;
  if (output?.status !== 'completed') throw new Error(`the job ended ${runtimeStatus}`);
  console.log(output.result.customerId);
  break;
}
