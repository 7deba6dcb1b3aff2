/**
 * Command line and the two modes. Quick mode exists to check the harness itself end to
 * end in under a minute; only full mode gives figures worth comparing between commits.
 */

export const MODES = {
  quick: {
    warmupSeconds: 1,
    loadSeconds: 2,
    rounds: 1,
    nearEmptyQueue: 10,
    backlog: 5_000,
    e2eWarmupJobs: 5,
    e2eJobs: 50,
    throughputJobs: 5_000,
    retainedJobs: 500,
    metricsRounds: 2,
    metricsSeconds: 1,
    sseStreams: 200,
    sseReports: 3,
    sseIntervalMs: 1_000,
  },
  full: {
    warmupSeconds: 3,
    loadSeconds: 10,
    rounds: 3,
    nearEmptyQueue: 10,
    backlog: 100_000,
    e2eWarmupJobs: 20,
    e2eJobs: 200,
    throughputJobs: 20_000,
    retainedJobs: 2_000,
    metricsRounds: 3,
    metricsSeconds: 5,
    sseStreams: 1_000,
    sseReports: 5,
    sseIntervalMs: 1_000,
  },
};

/** autocannon settings shared by every HTTP load run. */
export const LOAD = { connections: 50, pipelining: 1 };

const USAGE = 'usage: npm run bench [-- [--quick] [--tracing] [--sse-only]]';

export function parseArgs(argv) {
  let mode = 'full';
  // Ours with OpenTelemetry traces on, sent to a local sink (lib/otlp-sink.mjs).
  let tracing = false;
  // Only the event-stream phase, of ours (the baseline has no event streams).
  let sseOnly = false;
  for (const arg of argv) {
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--tracing') tracing = true;
    else if (arg === '--sse-only') sseOnly = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${arg}; ${USAGE}`);
    }
  }
  return { mode, tracing, sseOnly, ...MODES[mode] };
}
