import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { QUEUE_NAME, ZERO_DELAY_INPUT } from './jobs.mjs';
import { CLIENT_HEADERS } from './systems.mjs';

const POLL_INTERVAL_MS = 1;
const JOB_TIMEOUT_MS = 10_000;

/** A plain keep-alive HTTP/1.1 call: cheaper and more predictable per request than fetch. */
function call(agent, method, url, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = payload === undefined
      ? CLIENT_HEADERS
      : { ...CLIENT_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    const req = request(url, { method, agent, headers });
    req.once('error', reject);
    req.once('response', (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.once('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: response.statusCode, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.end(payload);
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) };
}

/** POSTs one zero-delay job and polls its status URL until it reads Completed. */
async function oneJob(agent, apiUrl, admin) {
  const startedEpoch = Date.now();
  const started = performance.now();
  const accepted = await call(agent, 'POST', `${apiUrl}/api/jobs/reports`, ZERO_DELAY_INPUT);
  if (accepted.status !== 202) throw new Error(`POST answered ${accepted.status}: ${JSON.stringify(accepted.body)}`);
  const { instanceId, statusQueryGetUri } = accepted.body;
  for (;;) {
    const status = await call(agent, 'GET', statusQueryGetUri);
    if (status.status === 200) {
      if (status.body?.runtimeStatus !== 'Completed') {
        throw new Error(`job ${instanceId} ended ${status.body?.runtimeStatus}, not Completed`);
      }
      const observedMs = performance.now() - started;
      // The worker's own completion stamp (epoch ms, same clock): free of polling granularity.
      const finishedOn = Number(await admin.hget(`bull:${QUEUE_NAME}:${instanceId}`, 'finishedOn'));
      return { observedMs, finishedMs: finishedOn - startedEpoch };
    }
    if (status.status !== 202) throw new Error(`GET ${statusQueryGetUri} answered ${status.status}`);
    if (performance.now() - started > JOB_TIMEOUT_MS) throw new Error(`job ${instanceId} not Completed after ${JOB_TIMEOUT_MS} ms`);
    await sleep(POLL_INTERVAL_MS);
  }
}

/**
 * End-to-end latency of zero-delay jobs with idle workers, one job at a time: from
 * sending the POST to the first GET that reads Completed, polling every ~1 ms (so the
 * figure includes up to one poll round trip of detection delay). Alongside, the same
 * interval measured to the job's finishedOn stamp written by the worker, which shows
 * how much of the observed figure is polling.
 */
export async function measureEndToEnd(apiUrl, admin, { warmupJobs, jobs }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < warmupJobs; i++) await oneJob(agent, apiUrl, admin);
    const observed = [];
    const finished = [];
    for (let i = 0; i < jobs; i++) {
      const { observedMs, finishedMs } = await oneJob(agent, apiUrl, admin);
      observed.push(observedMs);
      finished.push(finishedMs);
    }
    return { jobs, observed: summarize(observed), toFinishedOn: summarize(finished), samples: { observed, finished } };
  } finally {
    agent.destroy();
  }
}
