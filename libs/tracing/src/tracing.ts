import type { Telemetry } from 'bullmq';
import type { ActiveTracing } from './opentelemetry';
import { tracingRequested } from './tracing-switch';

/** Set once, at boot, when tracing is on; the only owner of that state. */
let active: ActiveTracing | undefined;

/**
 * Turns tracing on when the OTEL_* variables ask for it. Must run before the modules it
 * instruments (http, ioredis) are loaded, hence first in each app's main. With tracing
 * off this loads nothing of OpenTelemetry and every helper below is a no-op.
 */
export function startTracing(defaultServiceName: string, env: Record<string, string | undefined> = process.env): boolean {
  if (!active && tracingRequested(env)) {
    // Required here rather than imported: the SDK and its instrumentations load only when used.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startOpenTelemetry } = require('./opentelemetry') as typeof import('./opentelemetry');
    active = startOpenTelemetry(defaultServiceName);
  }
  return active !== undefined;
}

export function tracingActive(): boolean {
  return active !== undefined;
}

/** BullMQ's `telemetry` option for a Queue or Worker: undefined when tracing is off. */
export function queueTelemetry(): Telemetry | undefined {
  return active?.queueTelemetry;
}

/** A pino mixin adding trace_id and span_id to log lines, or undefined when tracing is off. */
export function traceLogMixin(): (() => Record<string, string>) | undefined {
  return active?.logFields;
}

/** Names the current request's server span after its route. */
export function recordHttpRoute(route: string): void {
  active?.recordHttpRoute(route);
}

/** Sends the spans still queued; on shutdown, after the last request and job are over. */
export async function flushTracing(): Promise<void> {
  await active?.shutdown();
}
