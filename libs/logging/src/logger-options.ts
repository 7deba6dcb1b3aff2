import type { Params } from 'nestjs-pino';
import type { LevelWithSilent } from 'pino';

/** Headers that carry credentials are never written to logs. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
];

/**
 * Structured JSON logs for both apps. `app` names the process on every line so the
 * API's and the worker's lines can be told apart when collected together.
 */
export function loggerOptions(app: 'api' | 'worker', level: LevelWithSilent): Params {
  return {
    pinoHttp: {
      level,
      base: { app },
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
