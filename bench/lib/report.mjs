import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOAD } from './options.mjs';
import { IMAGE_NODE_OPTIONS } from './systems.mjs';

/**
 * The figures of the table, each read from a system's results. `target` is what the
 * issue asks of ours: either of the ratio ours ÷ baseline, or of our own value.
 */
function figures(settings) {
  const backlog = settings.backlog.toLocaleString('en-US');
  return [
    { name: 'POST enqueue (req/s)', get: (r) => r.post.reqPerSec, target: { of: 'ratio', atLeast: 0.8 } },
    { name: 'POST enqueue p50 (ms)', get: (r) => r.post.p50Ms },
    { name: 'POST enqueue p99 (ms)', get: (r) => r.post.p99Ms },
    { name: 'status GET newest, near-empty queue (req/s)', get: (r) => r.status.nearEmpty.newest.reqPerSec, target: { of: 'ratio', atLeast: 0.9 } },
    { name: 'status GET newest, near-empty queue p99 (ms)', get: (r) => r.status.nearEmpty.newest.p99Ms },
    { name: 'status GET oldest, near-empty queue (req/s)', get: (r) => r.status.nearEmpty.oldest.reqPerSec, target: { of: 'ratio', atLeast: 0.9 } },
    { name: 'status GET oldest, near-empty queue p99 (ms)', get: (r) => r.status.nearEmpty.oldest.p99Ms },
    { name: `status GET newest, ${backlog}-job backlog (req/s)`, get: (r) => r.status.backlog.newest.reqPerSec, target: { of: 'ratio', atLeast: 0.9 } },
    { name: `status GET newest, ${backlog}-job backlog p99 (ms)`, get: (r) => r.status.backlog.newest.p99Ms },
    { name: `status GET oldest, ${backlog}-job backlog (req/s)`, get: (r) => r.status.backlog.oldest.reqPerSec, target: { of: 'ratio', atLeast: 0.9 } },
    { name: `status GET oldest, ${backlog}-job backlog p99 (ms)`, get: (r) => r.status.backlog.oldest.p99Ms },
    {
      name: `status GET oldest req/s, ${backlog} backlog ÷ near-empty (same system)`,
      get: (r) => r.status.backlog.oldest.reqPerSec / r.status.nearEmpty.oldest.reqPerSec,
      noRatio: true,
      target: { of: 'ours', atLeast: 0.9 },
    },
    { name: 'e2e zero-delay, idle worker, POST → GET Completed p50 (ms)', get: (r) => r.e2e.observed.p50Ms, target: { of: 'ratio', atMost: 1.2 } },
    { name: 'e2e zero-delay, idle worker, POST → GET Completed p99 (ms)', get: (r) => r.e2e.observed.p99Ms },
    { name: 'e2e zero-delay, POST → worker finishedOn p50 (ms)', get: (r) => r.e2e.toFinishedOn.p50Ms },
    { name: 'e2e zero-delay, POST → worker finishedOn p99 (ms)', get: (r) => r.e2e.toFinishedOn.p99Ms },
    { name: 'worker throughput, 1 process (jobs/s)', get: (r) => r.throughput[1].jobsPerSec, target: { of: 'ratio', atLeast: 0.8 } },
    { name: 'worker throughput, 2 processes (jobs/s)', get: (r) => r.throughput[2].jobsPerSec, target: { of: 'ratio', atLeast: 0.8 } },
    { name: 'peak RSS, API process (MiB)', get: (r) => r.apiPeakRssMiB, target: { of: 'ratio', atMost: 1.2 } },
    { name: 'peak RSS, worker process (MiB)', get: (r) => r.workerPeakRssMiB, target: { of: 'ratio', atMost: 1.2 } },
    { name: 'Redis memory per retained completed job (bytes)', get: (r) => r.retained.bytesPerJob, target: { of: 'ratio', atMost: 1.3 } },
    {
      name: 'status GET req/s, metrics on ÷ off (ours, alternating runs)',
      get: (r) => (r.metricsCost ? r.metricsCost.get.on / r.metricsCost.get.off : undefined),
      noRatio: true,
      target: { of: 'ours', atLeast: 0.95 },
    },
    {
      name: 'POST req/s, metrics on ÷ off (ours, alternating runs)',
      get: (r) => (r.metricsCost ? r.metricsCost.post.on / r.metricsCost.post.off : undefined),
      noRatio: true,
      target: { of: 'ours', atLeast: 0.95 },
    },
    { name: 'peak RSS until ready (no load yet), API process (MiB)', get: (r) => r.apiBootRssMiB },
    { name: 'peak RSS until ready (no load yet), worker process (MiB)', get: (r) => r.e2e.workerBootRssMiB },
  ];
}

/** The event-stream figures: ours only, the baseline has no streams. */
function streamFigures(settings) {
  const streams = settings.sseStreams.toLocaleString('en-US');
  return [
    { name: `SSE: ${streams} concurrent streams, memory per stream (KiB, API RSS delta ÷ streams)`, get: (r) => r.sse?.memoryPerStreamKiB },
    { name: `SSE: ${streams} streams, progress report → event received p50 (ms)`, get: (r) => r.sse?.latencyP50Ms },
    { name: `SSE: ${streams} streams, progress report → event received p99 (ms)`, get: (r) => r.sse?.latencyP99Ms },
    { name: `SSE: ${streams} streams, events received (events/s)`, get: (r) => r.sse?.eventsPerSec },
    { name: `SSE: peak RSS, API process with ${streams} streams (MiB)`, get: (r) => r.sse?.apiPeakRssMiB },
  ];
}

function judge(target, ours, ratio) {
  if (!target) return { text: '', met: undefined };
  const value = target.of === 'ratio' ? ratio : ours;
  const unit = target.unit ?? '';
  const met = target.atLeast !== undefined ? value >= target.atLeast : value <= target.atMost;
  const bound = target.atLeast !== undefined ? `≥ ${target.atLeast}` : `≤ ${target.atMost}`;
  return { text: `${target.of} ${bound}${unit}: ${met ? 'met' : '**missed**'}`, met };
}

export function buildRows(settings, results) {
  const all = settings.sseOnly ? streamFigures(settings) : [...figures(settings), ...streamFigures(settings)];
  return all.map((figure) => {
    const ours = figure.get(results.ours);
    const baseline = results.baseline ? figure.get(results.baseline) : undefined;
    const ratio = figure.noRatio ? undefined : ours / baseline;
    const { text, met } = judge(figure.target, ours, ratio);
    return { figure: figure.name, ours, baseline, ratio, target: text, met };
  });
}

function format(value) {
  if (value === undefined || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return '∞';
  if (Math.abs(value) >= 100) return Math.round(value).toString();
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Requests that did not answer 2xx would make a figure meaningless: listed under the table. */
function loadProblems(results) {
  const lines = [];
  for (const result of Object.values(results)) {
    if (!result.post) continue; // an event-streams-only run
    const runs = [
      ['POST', result.post],
      ['GET newest near-empty', result.status.nearEmpty.newest],
      ['GET oldest near-empty', result.status.nearEmpty.oldest],
      ['GET newest backlog', result.status.backlog.newest],
      ['GET oldest backlog', result.status.backlog.oldest],
    ];
    for (const [what, run] of runs) {
      if (run.non2xx || run.errors || run.timeouts) {
        lines.push(`- ${result.system} ${what}: ${run.non2xx} non-2xx, ${run.errors} errors, ${run.timeouts} timeouts of ${run.requests} requests`);
      }
    }
  }
  return lines;
}

export function renderMarkdown(meta, settings, rows, results) {
  // An event-streams-only run describes only that phase.
  const unlessSseOnly = (...text) => (settings.sseOnly ? [] : text);
  const lines = [
    `## report-jobs benchmark: ${settings.mode} mode${settings.sseOnly ? ', event streams only' : ''}`,
    '',
    `- ${meta.date}, commit ${meta.commit}, dist built ${meta.built}`,
    `- machine: ${meta.cores} cores (${meta.cpu}), ${meta.os}, Node ${meta.node}, Redis ${meta.redis}, BullMQ ${meta.bullmq}, autocannon ${meta.autocannon}; ` +
      `1-minute load average at start ${meta.loadAverageAtStart.toFixed(2)}`,
    ...unlessSseOnly(
      `- HTTP load: autocannon inside the harness process, ${LOAD.connections} connections, pipelining ${LOAD.pipelining}, ` +
        `${settings.loadSeconds} s per run after a ${settings.warmupSeconds} s warm-up, against 127.0.0.1. ` +
        `Each system has a Redis server of its own; rates are the median of ${settings.rounds} run(s) per system, ours and the ` +
        'baseline alternating run by run (e2e: jobs in alternating chunks), so that a drift of the machine hits both alike. ' +
        `Load generator, apps and Redis share the ${meta.cores} cores, so read ratios rather than absolute figures.`,
    ),
    `- apps run with NODE_ENV=production and LOG_LEVEL=info (the default users run): ours writes a JSON log line per request ` +
      'and two per job; the baseline (bench/baseline: plain Fastify + BullMQ, bare BullMQ Worker, concurrency 10) logs nothing.',
    `- ours runs with the image's NODE_OPTIONS (${IMAGE_NODE_OPTIONS || 'none'}), as in production; the baseline with Node's defaults.`,
    `- ours' OpenTelemetry traces: ${settings.tracing ? 'on, every span sampled, sent over OTLP/HTTP to a local sink process' : 'off (the default)'}.`,
    ...unlessSseOnly(
      `- status GETs: ${settings.nearEmptyQueue} waiting jobs ("near-empty") vs ${settings.backlog.toLocaleString('en-US')}; oldest = first added, next in line.`,
      `- e2e: ${settings.e2eJobs} sequential jobs (after ${settings.e2eWarmupJobs} warm-up), status polled every ~1 ms; ` +
        '"finishedOn" rows use the worker\'s own completion stamp instead, free of polling delay.',
      `- throughput: ${settings.throughputJobs.toLocaleString('en-US')} pre-filled zero-delay jobs, queue paused while workers boot, ` +
        'timed from resume to the last finishedOn.',
      `- Redis memory per retained completed job: ${settings.retainedJobs.toLocaleString('en-US')} jobs submitted through the API from an ` +
        'empty Redis, run by one worker and kept; used_memory after minus before, ÷ jobs (BullMQ\'s event stream included for both).',
      `- metrics on ÷ off: two API processes of ours (METRICS_PORT on and 0), ${settings.metricsRounds} alternating ` +
        `${settings.metricsSeconds} s runs each, medians.`,
    ),
    `- SSE (ours only): ${settings.sseStreams.toLocaleString('en-US')} jobs, one stream open on each, against an API process of its own; ` +
      `a worker inside the harness reports progress ${settings.sseReports} times per job, ${settings.sseIntervalMs} ms apart (spread evenly over ` +
      'the jobs), then completes; latency from sending a report to Redis to its event arriving at the stream\'s client; memory = the API\'s ' +
      'RSS with every stream open minus its RSS before, ÷ streams.',
    ...unlessSseOnly('- ratio = ours ÷ baseline: higher is better for req/s and jobs/s, lower for ms and MiB.'),
    '',
    '| figure | ours | baseline | ratio | target |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map((row) => `| ${row.figure} | ${format(row.ours)} | ${format(row.baseline)} | ${format(row.ratio)} | ${row.target} |`),
  ];
  const problems = loadProblems(results);
  if (problems.length > 0) lines.push('', 'Requests that did not succeed:', ...problems);
  const sse = results.ours?.sse;
  if (sse) {
    lines.push(
      '',
      `Event streams: ${sse.events} events on ${sse.streams} streams; ${sse.timedReports} of ${sse.streams * sse.reportsPerJob} progress reports ` +
        `timed, the other ${sse.coalescedReports} sent coalesced into a later event; latency max ${format(sse.latencyMaxMs)} ms; ` +
        `API RSS ${format(sse.rssBeforeMiB)} MiB before the streams, ${format(sse.rssWithStreamsMiB)} MiB with them.`,
    );
  }
  const missed = rows.filter((row) => row.met === false).length;
  const judged = rows.filter((row) => row.met !== undefined).length;
  lines.push('', `Targets met: ${judged - missed} of ${judged}.`);
  return `${lines.join('\n')}\n`;
}

export function writeResults(dir, markdown, json) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.md'), markdown);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
}
