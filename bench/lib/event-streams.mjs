import { Worker } from 'bullmq';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from './jobs.mjs';
import { readRssMiB } from './memory.mjs';
import { waitUntil } from './processes.mjs';
import { CLIENT_HEADERS, startApi } from './systems.mjs';

/** How many POSTs (and stream opens) are in flight at once while setting up. */
const SETUP_CONCURRENCY = 50;
const PHASE_TIMEOUT_MS = 120_000;

/** Runs `task` over `items`, `limit` at a time. */
async function inBatches(items, limit, task) {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(task));
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function postJob(agent, apiUrl) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify({ customer_id: 'cust-sse', operation: 'rebuild-report', delay_seconds: 0 });
    const req = request(`${apiUrl}/api/jobs/reports`, {
      method: 'POST',
      agent,
      headers: { ...CLIENT_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
    req.once('error', reject);
    req.once('response', (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.once('end', () => {
        if (response.statusCode !== 202) reject(new Error(`POST answered ${response.statusCode}: ${text}`));
        else resolve(JSON.parse(text).instanceId);
      });
    });
    req.end(payload);
  });
}

/**
 * One stream's client, kept as small as the harness can: a raw HTTP request whose chunks
 * are split into events by hand. `onEvent(id, payload)` runs for each event.
 */
function openStream(agent, url, onEvent) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { ...CLIENT_HEADERS, accept: 'text/event-stream' } });
    req.once('error', reject);
    req.once('response', (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${url} answered ${response.statusCode}`));
        return;
      }
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.startsWith('id: ')) continue; // a heartbeat
          const lines = block.split('\n');
          const id = lines[0].slice(4);
          const data = lines.find((line) => line.startsWith('data: '))?.slice(6);
          onEvent(id, JSON.parse(data));
        }
      });
      resolve({ ended: new Promise((done) => response.once('end', done)), close: () => req.destroy() });
    });
    req.end();
  });
}

/**
 * Event streams on one API process: `streams` jobs created through the API, one stream
 * open on each, then every job run by a worker inside this harness that reports progress
 * `reports` times, `intervalMs` apart (the first after a random part of the interval, so
 * that events flow evenly rather than in bursts), and completing `intervalMs` after the last.
 *
 * - memory per stream: the API's RSS once every stream has received its first event,
 *   minus its RSS before they opened, divided by the number of streams;
 * - event latency: from the moment the harness's worker sends a progress report to Redis
 *   to the moment the stream's client (in the same process, same clock) receives the event
 *   carrying it. Reports the API sends coalesced (a newer one was read first) are counted
 *   apart, not timed.
 *
 * The harness is worker, load generator and clients at once, sharing the cores with the
 * API and Redis: the latency includes its own scheduling delay.
 */
export async function measureEventStreams({ system, redis, logDir, streams, reports, intervalMs }) {
  await redis.reset();
  const api = await startApi(system, redis.url, logDir, { env: { SSE_MAX_STREAMS_PER_PRINCIPAL: String(streams) }, tag: 'sse' });
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  let worker;
  const clients = [];
  try {
    const ids = [];
    await inBatches([...Array(streams).keys()], SETUP_CONCURRENCY, async () => ids.push(await postJob(agent, api.url)));
    const rssBeforeMiB = readRssMiB(api.child.pid);

    const sentAt = new Map(); // `${jobId} ${sequence}` → performance.now() when the report was sent
    const latencies = [];
    const firstEvent = new Set();
    const completed = new Set();
    let events = 0;
    const onEvent = (jobId) => (id, payload) => {
      events++;
      firstEvent.add(jobId);
      if (payload.runtimeStatus === 'Completed') completed.add(jobId);
      const [, phase, sequence] = id.split('.').map(Number);
      const sent = phase === 1 ? sentAt.get(`${jobId} ${sequence}`) : undefined;
      if (sent !== undefined) latencies.push(performance.now() - sent);
    };
    await inBatches(ids, SETUP_CONCURRENCY, async (jobId) =>
      clients.push(await openStream(agent, `${api.url}/api/jobs/reports/${jobId}/events`, onEvent(jobId))),
    );
    await waitUntil(api, `a first event on each of ${streams} streams`, async () => firstEvent.size === streams, PHASE_TIMEOUT_MS);
    const rssWithStreamsMiB = readRssMiB(api.child.pid);

    const started = performance.now();
    worker = new Worker(
      QUEUE_NAME,
      async (job) => {
        await sleep(Math.random() * intervalMs);
        for (let sequence = 1; sequence <= reports; sequence++) {
          if (sequence > 1) await sleep(intervalMs);
          sentAt.set(`${job.id} ${sequence}`, performance.now());
          await job.updateProgress({ progress: Math.round((sequence * 100) / reports), message: 'bench', updatedAt: Date.now(), sequence });
        }
        // Some work after the last report, as in a real job: a completion right after it
        // would be read together with it, and the report not timed.
        await sleep(intervalMs);
        return { status: 'completed', instanceId: job.id, result: { customerId: 'cust-sse', operation: 'rebuild-report' } };
      },
      { connection, concurrency: streams },
    );
    await waitUntil(api, `every stream to end with Completed`, async () => completed.size === streams, PHASE_TIMEOUT_MS);
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(clients.map((client) => client.ended));

    const sorted = latencies.sort((a, b) => a - b);
    return {
      streams,
      reportsPerJob: reports,
      memoryPerStreamKiB: ((rssWithStreamsMiB - rssBeforeMiB) * 1024) / streams,
      rssBeforeMiB,
      rssWithStreamsMiB,
      apiPeakRssMiB: api.memory.peakMiB(),
      latencyP50Ms: percentile(sorted, 50),
      latencyP99Ms: percentile(sorted, 99),
      latencyMaxMs: sorted.at(-1),
      timedReports: sorted.length,
      coalescedReports: streams * reports - sorted.length,
      events,
      eventsPerSec: events / seconds,
    };
  } finally {
    clients.forEach((client) => client.close());
    await worker?.close();
    connection.disconnect();
    agent.destroy();
    await api.stop();
  }
}
