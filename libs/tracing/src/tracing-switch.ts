/**
 * Whether the environment asks for traces, decided from the standard OpenTelemetry
 * variables alone: an OTLP endpoint or an explicit OTEL_TRACES_EXPORTER turns tracing on;
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none keeps it off whatever else is set.
 * Without any of them nothing of OpenTelemetry is loaded.
 */
export function tracingRequested(env: Record<string, string | undefined>): boolean {
  const value = (name: string) => env[name]?.trim() || undefined;
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return false;
  const exporters = value('OTEL_TRACES_EXPORTER')
    ?.split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  // The SDK itself reads only the first entry for "none".
  if (exporters?.[0] === 'none') return false;
  if (exporters && exporters.length > 0) return true;
  return value('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined || value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined;
}
