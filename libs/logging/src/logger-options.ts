import type { Params } from 'nestjs-pino';
import pino, { type DestinationStream, type LevelWithSilent } from 'pino';
import { traceLogMixin } from '@report-jobs/tracing';

/** Headers that carry credentials are never written to logs. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
];

let stdout: DestinationStream | undefined;

/**
 * Standard output. Lines below warn are written asynchronously: handed to the kernel off
 * the event loop, and those logged while a write is under way go out together in the
 * next one (synchronous writes took about 7 % of the API's CPU under a load of status
 * reads). Lines still buffered are written out synchronously when the process exits (pino
 * registers that for asynchronous destinations), whatever the exit path short of a
 * SIGKILL or a crash of the runtime itself. Warnings and errors are written synchronously,
 * so that none is ever lost that way; they may then come out ahead of info lines logged
 * just before them (every line carries its time). One per process: several apps in one
 * process (tests) share it.
 */
function standardOutput(): DestinationStream {
  stdout ??= pino.multistream(
    [
      { level: 'trace', stream: pino.destination({ dest: 1, sync: false }) },
      { level: 'warn', stream: pino.destination({ dest: 1, sync: true }) },
    ],
    // Each line to the stream of the highest level it reaches: once.
    { dedupe: true },
  );
  return stdout;
}

/**
 * Structured JSON logs for both apps. `app` names the process on every line so the
 * API's and the worker's lines can be told apart when collected together. With tracing
 * on, every line written inside a span (a request, a job attempt) carries its trace_id
 * and span_id; with tracing off no mixin runs at all. `contextFields` adds fields of the
 * current context (the API's request) to every line.
 */
export function loggerOptions(app: 'api' | 'worker', level: LevelWithSilent, contextFields?: () => object): Params {
  const traceFields = traceLogMixin();
  const mixin = traceFields && contextFields ? () => ({ ...contextFields(), ...traceFields() }) : (traceFields ?? contextFields);
  return {
    pinoHttp: [
      {
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
      standardOutput(),
    ],
  };
}
