import { context, type Context } from '@opentelemetry/api';

const CALLER_CONTEXT = Symbol('report-jobs.callerContext');

type TracedCommand = { [CALLER_CONTEXT]?: Context };
type SendCommand = (this: unknown, command: TracedCommand, ...rest: unknown[]) => unknown;

/**
 * Keeps each Redis command's span in the trace of the code that issued it, pipelines
 * included. ioredis sends a pipeline's commands later, in one go, and with
 * auto-pipelining (the API's connection) one pipeline gathers the commands of every
 * request in that tick: the Redis instrumentation, which opens a command's span when it
 * is sent, would then put all of them under whichever request came first. So the context
 * is taken when a command joins a pipeline, and restored when it is sent.
 *
 * Call after the SDK has started: ioredis is loaded here, and must be instrumented first.
 */
export function keepCallerContextInPipelines(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Pipeline, Redis } = require('ioredis') as typeof import('ioredis');
  const pipelineProto = Pipeline.prototype as unknown as { sendCommand: SendCommand };
  const redisProto = Redis.prototype as unknown as { sendCommand: SendCommand };
  const enqueue = pipelineProto.sendCommand;
  const send = redisProto.sendCommand;
  pipelineProto.sendCommand = function (command, ...rest) {
    command[CALLER_CONTEXT] = context.active();
    return enqueue.call(this, command, ...rest);
  };
  redisProto.sendCommand = function (command, ...rest) {
    const caller = command?.[CALLER_CONTEXT];
    if (!caller) return send.call(this, command, ...rest);
    return context.with(caller, () => send.call(this, command, ...rest));
  };
}
