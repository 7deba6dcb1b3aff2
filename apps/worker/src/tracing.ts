import { startTracing } from '@report-jobs/tracing';

// Imported first by main.ts: the instrumentation has to be in place before http and
// ioredis are loaded. Off (and nothing loaded) unless the OTEL_* variables ask for it.
startTracing('report-jobs-worker');
