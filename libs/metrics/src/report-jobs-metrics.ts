import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { REPORT_OPERATIONS } from '@report-jobs/contract';

/**
 * Every metric family the apps export, defined once so that names, labels and buckets
 * cannot drift between the API and the worker; dashboards and alert rules rely on them.
 */

/** How an attempt ended, as counted in report_jobs_attempts_total. */
export const ATTEMPT_OUTCOMES = ['completed', 'failed', 'retried', 'terminated', 'interrupted', 'stalled'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** The route label of requests no route matched: never the raw path, which is unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/** One registry per process, with the default process and Node.js metrics (CPU, memory, event-loop lag, GC). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** API: latency of every answered request, by route template. Prefer: wait holds answers up to 30 s by default. */
export function httpRequestDuration(registry: Registry) {
  return new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
}

/** API: jobs created; idempotent repeats landing on an existing job are not counted. */
export function jobsSubmitted(registry: Registry) {
  const counter = new Counter({
    name: 'report_jobs_submitted_total',
    help: 'Report jobs created by the API (repeats of an Idempotency-Key not included).',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  for (const operation of REPORT_OPERATIONS) counter.inc({ operation }, 0);
  return counter;
}

/** Worker: from submission to the start of the first attempt. */
export function jobWaitSeconds(registry: Registry) {
  const histogram = new Histogram({
    name: 'report_jobs_job_wait_seconds',
    help: 'Time from submission to the start of the first attempt.',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
    registers: [registry],
  });
  for (const operation of REPORT_OPERATIONS) histogram.zero({ operation });
  return histogram;
}

/** Worker: how long one attempt ran, by how it ended. */
export function jobRunSeconds(registry: Registry) {
  return new Histogram({
    name: 'report_jobs_job_run_seconds',
    help: 'Run time of one attempt, by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
}

/** Worker: attempts by outcome. */
export function attemptsTotal(registry: Registry) {
  const counter = new Counter({
    name: 'report_jobs_attempts_total',
    help: 'Attempts by outcome: completed, failed (for good), retried, terminated, interrupted (handed back on shutdown), stalled.',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  });
  // Every series exists from the start, so rates and alerts see a 0 rather than nothing.
  for (const operation of REPORT_OPERATIONS) {
    for (const outcome of ATTEMPT_OUTCOMES) counter.inc({ operation, outcome }, 0);
  }
  return counter;
}

/** How a webhook delivery attempt ended, as counted in report_jobs_webhook_attempts_total. */
export const WEBHOOK_ATTEMPT_OUTCOMES = ['delivered', 'retried', 'failed', 'disabled'] as const;
export type WebhookAttemptOutcome = (typeof WEBHOOK_ATTEMPT_OUTCOMES)[number];

/** Worker: webhook delivery attempts by outcome. */
export function webhookAttemptsTotal(registry: Registry) {
  const counter = new Counter({
    name: 'report_jobs_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome: delivered, retried (another attempt follows), failed (for good), disabled (the receiver answered 410).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of WEBHOOK_ATTEMPT_OUTCOMES) counter.inc({ outcome }, 0);
  return counter;
}
