import type { Params } from 'nestjs-pino';
import type { LevelWithSilent } from 'pino';
import { traceLogMixin } from '@report-jobs/tracing';

/** Headers that carry credentials are never written to logs. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
];

/**
 * Structured JSON logs for both apps. `app` names the process on every line so the
 * API's and the worker's lines can be told apart when collected together. With tracing
 * on, every line written inside a span (a request, a job attempt) carries its trace_id
 * and span_id; with tracing off no mixin runs at all.
 */
export function loggerOptions(app: 'api' | 'worker', level: LevelWithSilent): Params {
  const mixin = traceLogMixin();
  return {
    pinoHttp: {
      level,
      base: { app },
      ...(mixin && { mixin }),
      redact: REDACTED_PATHS,
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}
