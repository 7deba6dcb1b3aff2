import { context, isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Telemetry } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { JobWorkSampler, samplerFromEnvironment } from './job-work-sampler';
import { keepCallerContextInPipelines } from './pipeline-context';

/**
 * Longest wait for the last spans to leave on shutdown. A collector that is down must not
 * hold the exit past the orchestrator's grace period; spans still queued then are lost.
 */
const FLUSH_LIMIT_MS = 3_000;

/** What the rest of the process uses while tracing is on. */
export interface ActiveTracing {
  /** BullMQ's `telemetry` option: spans for add/process/complete, context carried in the job. */
  queueTelemetry: Telemetry;
  /** trace_id, span_id and trace_flags of the active span, for every log line. */
  logFields(): Record<string, string>;
  /** Names the active HTTP server span after its route (`POST /api/jobs/reports`). */
  recordHttpRoute(route: string): void;
  /** Exports the spans still queued and stops the SDK. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK as the OTEL_* variables configure it (exporter, endpoint,
 * protocol, sampler, batch delays, resource attributes), with this service's additions:
 * HTTP server spans and Redis command spans, a sampler that drops BullMQ's polling, and
 * the service name defaulting to `defaultServiceName` unless OTEL_SERVICE_NAME (or
 * service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise. Only traces are set up:
 * metrics and logs have their own paths (Prometheus, stdout).
 */
export function startOpenTelemetry(defaultServiceName: string): ActiveTracing {
  const sdk = new NodeSDK({
    // Detected attributes (OTEL_SERVICE_NAME among them) are merged over this one.
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': defaultServiceName })),
    sampler: new JobWorkSampler(samplerFromEnvironment(process.env)),
    instrumentations: [
      new HttpInstrumentation({
        // Probes every few seconds would make a trace each and tell nothing.
        ignoreIncomingRequestHook: (request) => request.url?.startsWith('/health/') ?? false,
        requireParentforOutgoingSpans: true,
      }),
      new IORedisInstrumentation({
        // Arguments carry job input and the idempotency secret: only the command is recorded.
        dbStatementSerializer: (command) => command,
      }),
    ],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  keepCallerContextInPipelines();

  return {
    queueTelemetry: new BullMQOtel({ tracerName: 'report-jobs' }),
    // A new object every time: pino merges the line's own fields into it.
    logFields: (): Record<string, string> => {
      const span = trace.getSpan(context.active())?.spanContext();
      if (!span || !isSpanContextValid(span)) return {};
      const sampled = (span.traceFlags & TraceFlags.SAMPLED) !== 0;
      return { trace_id: span.traceId, span_id: span.spanId, trace_flags: sampled ? '01' : '00' };
    },
    recordHttpRoute: (route) => {
      // The HTTP instrumentation names the span from this when the response ends.
      const metadata = getRPCMetadata(context.active());
      if (metadata?.type === RPCType.HTTP) metadata.route = route;
    },
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_LIMIT_MS)));
      await Promise.race([sdk.shutdown().catch(() => undefined), limit]).finally(() => clearTimeout(timer));
    },
  };
}
