import { isSpanContextValid, SpanKind, trace, TraceFlags, type Attributes, type Context, type Link } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';

/** Root spans that stand for work someone asked for: a request, or a job taken from the queue. */
const WORK_KINDS = new Set([SpanKind.SERVER, SpanKind.CONSUMER]);

/**
 * Keeps traces to the work the service does for its clients. BullMQ opens a root span
 * for each of its own polls and timers (getNextJob, extendLocks, moveStalledJobsToWait):
 * exported, they would bury the jobs' traces in one trace per poll. So a root span is
 * recorded only for a request (SERVER) or a job attempt (CONSUMER), and a span whose
 * parent in this process was not recorded is not either, whatever the configured sampler
 * would say; everything else is left to that sampler.
 */
export class JobWorkSampler implements Sampler {
  constructor(private readonly configured: Sampler) {}

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const parent = trace.getSpanContext(context);
    if (!parent || !isSpanContextValid(parent)) {
      if (!WORK_KINDS.has(spanKind)) return { decision: SamplingDecision.NOT_RECORD };
    } else if (!parent.isRemote && (parent.traceFlags & TraceFlags.SAMPLED) === 0) {
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.configured.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `JobWorkSampler{${this.configured.toString()}}`;
  }
}

/**
 * The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name, as the SDK would build
 * it (it does not export its own reader): parentbased_always_on when unset.
 */
export function samplerFromEnvironment(env: Record<string, string | undefined>): Sampler {
  const ratio = () => {
    const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
    const value = arg ? Number(arg) : NaN;
    return Number.isFinite(value) && value >= 0 && value <= 1 ? value : 1;
  };
  switch (env.OTEL_TRACES_SAMPLER?.trim()) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
